"""Handlers of the booking events payment reacts to."""
