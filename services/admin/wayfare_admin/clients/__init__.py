"""HTTP clients of the services the admin service asks to act."""
