"""Which providers this process can use: the sandbox and manual ones always, Stripe when
its key is set (and then Stripe charges)."""

from dataclasses import dataclass

from wayfare_payment.domain.errors import ProviderUnavailable
from wayfare_payment.providers import Provider
from wayfare_payment.providers.sandbox import ManualProvider, SandboxProvider
from wayfare_payment.settings import Settings


@dataclass
class Providers:
    default: Provider
    by_name: dict[str, Provider]

    def get(self, name: str | None) -> Provider:
        provider = self.by_name.get(name or "")
        if provider is None:
            raise ProviderUnavailable(f"The {name} provider is not configured here.")
        return provider

    async def close(self) -> None:
        for provider in self.by_name.values():
            if close := getattr(provider, "close", None):
                await close()


def build_providers(settings: Settings) -> Providers:
    sandbox = SandboxProvider()
    by_name: dict[str, Provider] = {"sandbox": sandbox, "manual": ManualProvider()}
    default: Provider = sandbox
    if settings.uses_stripe:
        # Imported only here: the stripe library (with the requests library it loads to
        # pick a default client) is 5 MB in a process that does not charge through it.
        from wayfare_payment.providers.stripe_provider import StripeProvider

        default = by_name["stripe"] = StripeProvider(
            settings.stripe_api_key, settings.stripe_api_base
        )
    return Providers(default=default, by_name=by_name)
