"""Text helpers shared by the stages: one of each (folding, sentences, titles)."""
