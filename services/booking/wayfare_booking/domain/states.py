"""The booking state machine (DESIGN §7):

    pending_payment --payment.succeeded--> confirmed --after travel--> completed
          |    \\                              |
          |     `--hold expired / deadline--> expired
          |                                    |
          `-----------cancel------------------>`--> cancelled

Every change goes through `check`, so an illegal one is refused before anything moves."""

from enum import StrEnum


class Status(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING_PAYMENT: frozenset({Status.CONFIRMED, Status.EXPIRED, Status.CANCELLED}),
    Status.CONFIRMED: frozenset({Status.COMPLETED, Status.CANCELLED}),
    Status.COMPLETED: frozenset(),
    Status.EXPIRED: frozenset(),
    Status.CANCELLED: frozenset(),
}

# A payment that lands on one of these is refunded, never confirmed.
CLOSED = frozenset({Status.EXPIRED, Status.CANCELLED})


class IllegalTransition(Exception):
    def __init__(self, current: Status, target: Status):
        self.current = Status(current)
        self.target = Status(target)
        super().__init__(f"a booking that is {self.current} cannot become {self.target}")


def can(current: str, target: str) -> bool:
    return Status(target) in TRANSITIONS[Status(current)]


def check(current: str, target: str) -> Status:
    """The target status, or IllegalTransition."""
    if not can(current, target):
        raise IllegalTransition(Status(current), Status(target))
    return Status(target)
