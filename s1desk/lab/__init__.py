"""The scaling lab: budget sweeps, majority vote and s1's benchmarks, without Qt."""
