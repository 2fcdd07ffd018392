"""Who wants what: a choice per channel and category, over defaults, with the emails that
nobody can turn off."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

Channel = Literal["email", "sms", "in_app"]
Category = Literal["security", "transactional", "updates", "marketing"]
CHANNELS: tuple[Channel, ...] = get_args(Channel)
CATEGORIES: tuple[Category, ...] = get_args(Category)
Key = tuple[Channel, Category]

# Email and in-app are on unless turned off; SMS and marketing only when asked for
# (opt-in: texts can cost the recipient, and marketing needs consent).
DEFAULTS: dict[Key, bool] = {
    (channel, category): channel != "sms" and category != "marketing"
    for channel in CHANNELS
    for category in CATEGORIES
}

# Account security (verification, password reset) and what concerns a person's bookings
# and money must reach them: these emails cannot be turned off.
LOCKED: frozenset[Key] = frozenset({("email", "security"), ("email", "transactional")})


def key_name(key: Key) -> str:
    return f"{key[0]}.{key[1]}"


class LockedPreference(ValueError):
    def __init__(self, keys: list[Key]):
        self.keys = keys
        super().__init__(", ".join(map(key_name, keys)) + " cannot be turned off")


@dataclass(frozen=True)
class Preferences:
    """A person's choices; what they never chose follows DEFAULTS."""

    choices: Mapping[Key, bool] = field(default_factory=dict)

    def allows(self, channel: Channel, category: Category) -> bool:
        if (channel, category) in LOCKED:
            return True
        return self.choices.get((channel, category), DEFAULTS[(channel, category)])

    def changed(self, updates: Mapping[Key, bool]) -> "Preferences":
        """These choices on top of the current ones; refuses to turn off a locked one."""
        refused = sorted(key for key, enabled in updates.items() if key in LOCKED and not enabled)
        if refused:
            raise LockedPreference(refused)
        unknown = set(updates) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown preferences: {sorted(unknown)}")
        merged = {**self.choices, **updates}
        # Only real choices are kept, so a later change of a default still reaches those
        # who never chose (and locked entries never need storing).
        return Preferences({k: v for k, v in merged.items() if k not in LOCKED})

    def table(self) -> dict[Channel, dict[Category, bool]]:
        return {
            channel: {category: self.allows(channel, category) for category in CATEGORIES}
            for channel in CHANNELS
        }

    def to_storage(self) -> dict[str, bool]:
        return {key_name(key): enabled for key, enabled in sorted(self.choices.items())}

    @classmethod
    def from_storage(cls, stored: Mapping[str, bool] | None) -> "Preferences":
        choices: dict[Key, bool] = {}
        for name, enabled in (stored or {}).items():
            channel, _, category = name.partition(".")
            if (channel, category) in DEFAULTS:  # a retired category is simply ignored
                choices[(channel, category)] = bool(enabled)  # type: ignore[index]
        return cls(choices)
