"""The engine process: llama.cpp and the token loop in a child process of their own."""
