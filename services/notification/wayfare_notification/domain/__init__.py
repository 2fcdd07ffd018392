"""What to tell whom, through which channel: pure rules, no framework, no storage."""
