"""Email bodies: one Jinja2 template per message kind in HTML (`<kind>.html`) and plain
text (`<kind>.txt`), both on a shared layout. HTML is autoescaped; every variable must
exist (StrictUndefined), so a template and its message cannot drift apart unnoticed."""

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from wayfare_notification.domain.messages import Links, Message, Recipient


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class Renderer:
    def __init__(self, links: Links):
        self.links = links
        self.environment = Environment(
            loader=FileSystemLoader(Path(__file__).parent),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def email(self, message: Message, recipient: Recipient) -> RenderedEmail:
        context = {
            **message.details,
            "subject": message.subject,
            "summary": message.summary,
            "link": message.link,
            "category": message.category,
            "name": recipient.greeting_name,
            "lang": recipient.locale.split("_")[0],
            "home_url": self.links.home,
            "preferences_url": self.links.preferences,
        }
        return RenderedEmail(
            subject=message.subject,
            text=self.environment.get_template(f"{message.kind}.txt").render(context),
            html=self.environment.get_template(f"{message.kind}.html").render(context),
        )
