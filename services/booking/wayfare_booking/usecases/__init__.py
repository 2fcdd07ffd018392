"""What the API and the event handlers do: each function is one business operation over
the store, the domain rules and the flight client."""
