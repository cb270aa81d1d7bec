"""Coaching: focus choice, live cues and the post-set report."""
