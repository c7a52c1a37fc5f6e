"""The s1 thinking format and budget forcing: pure logic, no Qt and no I/O."""
