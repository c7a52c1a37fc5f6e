"""Thinking formats (s1, think tags, gpt-oss) and budget forcing: pure logic, no Qt and no I/O."""
