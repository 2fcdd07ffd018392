"""Application functions: what the API, the event handlers, the webhook and the background
tasks do, in terms of the domain, the store and the providers."""

from collections.abc import Callable

from wayfare_common.events.envelope import Event

Emit = Callable[[Event], object]  # records an event in the caller's transaction
