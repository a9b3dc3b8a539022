"""Resources the stages are given (not import): the knowledge base."""
