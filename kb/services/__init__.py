"""Use cases and the steps they share. Importing the package does nothing else: what reacts to what is
the table in kb/services/reactions.py."""
