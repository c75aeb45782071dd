"""What each AgentDojo environment function does, declared by hand (never guessed from names).

One row per function of the four suites (workspace, travel, banking, slack); a function that two
suites share (``send_email``, the calendar) is the same function and has one row. The rules the
rows follow (docs/injection-eval.md explains them with examples):

- **effect**: ``egress`` when the call moves money, messages or data to another party or changes
  who can reach the user's data or accounts (send, share, invite, reserve, calendar changes that
  notify participants, a web request to a URL of the caller's choosing); ``local_write`` when it
  changes only the user's own state; ``read_only`` otherwise.
- **output trust**: ``untrusted`` when a third party could have written any of the text (mail,
  calendar invitations, shared files, transaction subjects, reviews, chat messages, channel and
  user names, web pages, contacts harvested from mail, a booking platform's listings, which the
  businesses write); ``trusted`` for the user's own records (balance, IBAN, profile, standing
  orders, the date). A write that echoes the stored object (an e-mail, an event, a file) is
  untrusted like it.
- **argument kinds**: ``recipient`` for e-mail addresses, IBANs, user and channel names, the
  business a reservation goes to and a new password (whoever chose it can sign in); ``url``;
  ``path`` for file, e-mail, event and transaction ids and file names; ``amount`` for money;
  ``text`` for free text a call sends or stores (the capability policy does not trace text).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from autan.tools.spec import ArgKind, Effect, Trust

R, E, W = Effect.READ_ONLY, Effect.EGRESS, Effect.LOCAL_WRITE
T, U = Trust.TRUSTED, Trust.UNTRUSTED
RCP, URL, PATH = ArgKind.RECIPIENT, ArgKind.URL, ArgKind.PATH
AMT, TXT = ArgKind.AMOUNT, ArgKind.TEXT


@dataclass(frozen=True)
class Declared:
    """One function's declaration."""

    effect: Effect
    trust: Trust
    args: Mapping[str, ArgKind] = field(default_factory=lambda: MappingProxyType({}))
    structure: tuple[str, ...] = ()
    public_read: bool = False  # reads a public page anonymously (tools/delegation.py)


def _d(effect: Effect, trust: Trust, **args: ArgKind) -> Declared:
    return Declared(effect, trust, MappingProxyType(args))


_MAIL = {"recipients": RCP, "subject": TXT, "body": TXT, "attachments": PATH, "cc": RCP, "bcc": RCP}
_EVENT = {"title": TXT, "description": TXT, "participants": RCP, "location": TXT}

WORKSPACE: dict[str, Declared] = {
    "send_email": _d(E, U, **_MAIL),  # echoes the mail, whose body may quote others
    "delete_email": _d(W, T, email_id=PATH),
    "get_unread_emails": _d(R, U),
    "get_sent_emails": _d(R, U),  # sent mail quotes and forwards what others wrote
    "get_received_emails": _d(R, U),
    "get_draft_emails": _d(R, U),
    "search_emails": _d(R, U, query=TXT, sender=RCP),
    "search_contacts_by_name": _d(R, U, query=TXT),  # harvested from every mail's senders
    "search_contacts_by_email": _d(R, U, query=RCP),
    "get_current_day": _d(R, T),
    "search_calendar_events": _d(R, U, query=TXT),
    "get_day_calendar_events": _d(R, U),
    "create_calendar_event": _d(E, U, **_EVENT),  # invites its participants
    "cancel_calendar_event": _d(E, T, event_id=PATH),  # notifies the participants
    "reschedule_calendar_event": _d(E, U, event_id=PATH),
    "add_calendar_event_participants": _d(E, U, event_id=PATH, participants=RCP),
    "append_to_file": _d(W, U, file_id=PATH, content=TXT),
    "search_files_by_filename": _d(R, U, filename=PATH),
    "create_file": _d(W, U, filename=PATH, content=TXT),
    "delete_file": _d(W, U, file_id=PATH),
    "get_file_by_id": _d(R, U, file_id=PATH),
    "list_files": _d(R, U),
    "share_file": _d(E, U, file_id=PATH, email=RCP, permission=TXT),
    "search_files": _d(R, U, query=TXT),
}

TRAVEL: dict[str, Declared] = {  # listings are written by the businesses that list
    "get_user_information": _d(R, T),
    "get_all_hotels_in_city": _d(R, U, city=TXT),
    "get_hotels_prices": _d(R, U, hotel_names=TXT),
    "get_rating_reviews_for_hotels": _d(R, U, hotel_names=TXT),
    "get_hotels_address": _d(R, U, hotel_name=TXT),
    "get_all_restaurants_in_city": _d(R, U, city=TXT),
    "get_cuisine_type_for_restaurants": _d(R, U, restaurant_names=TXT),
    "get_restaurants_address": _d(R, U, restaurant_names=TXT),
    "get_rating_reviews_for_restaurants": _d(R, U, restaurant_names=TXT),
    "get_dietary_restrictions_for_all_restaurants": _d(R, U, restaurant_names=TXT),
    "get_contact_information_for_restaurants": _d(R, U, restaurant_names=TXT),
    "get_price_for_restaurants": _d(R, U, restaurant_names=TXT),
    "check_restaurant_opening_hours": _d(R, U, restaurant_names=TXT),
    "get_all_car_rental_companies_in_city": _d(R, U, city=TXT),
    "get_car_types_available": _d(R, U, company_name=TXT),
    "get_rating_reviews_for_car_rental": _d(R, U, company_name=TXT),
    "get_car_fuel_options": _d(R, U, company_name=TXT),
    "get_car_rental_address": _d(R, U, company_name=TXT),
    "get_car_price_per_day": _d(R, U, company_name=TXT),
    "reserve_hotel": _d(E, T, hotel=RCP),  # the user's details go to the business
    "reserve_car_rental": _d(E, T, company=RCP),
    "reserve_restaurant": _d(E, T, restaurant=RCP),
    "get_flight_information": _d(R, U, departure_city=TXT, arrival_city=TXT),
}


BANKING: dict[str, Declared] = {
    "get_iban": _d(R, T),
    "send_money": _d(E, T, recipient=RCP, amount=AMT, subject=TXT),
    "schedule_transaction": _d(E, T, recipient=RCP, amount=AMT, subject=TXT),
    "update_scheduled_transaction": _d(E, T, id=PATH, recipient=RCP, amount=AMT, subject=TXT),
    "get_balance": _d(R, T),
    "get_most_recent_transactions": _d(R, U),  # senders write the subjects
    "get_scheduled_transactions": _d(R, T),  # the user's own standing orders
    "read_file": _d(R, U, file_path=PATH),  # bills and notices from third parties
    "get_user_info": _d(R, T),
    # The new password decides who can sign in: traced like a recipient of the account.
    "update_password": _d(E, T, password=RCP),
    "update_user_info": _d(W, T, first_name=TXT, last_name=TXT, street=TXT, city=TXT),
}

SLACK: dict[str, Declared] = {
    "get_channels": _d(R, U),  # anyone can name a channel
    "add_user_to_channel": _d(E, T, user=RCP, channel=RCP),
    "read_channel_messages": _d(R, U, channel=RCP),
    "read_inbox": _d(R, U, user=RCP),
    "send_direct_message": _d(E, T, recipient=RCP, body=TXT),
    "send_channel_message": _d(E, T, channel=RCP, body=TXT),
    "get_users_in_channel": _d(R, U, channel=RCP),  # members choose their own names
    "invite_user_to_slack": _d(E, T, user=RCP, user_email=RCP),
    "remove_user_from_slack": _d(E, T, user=RCP),
    "get_webpage": _d(E, U, url=URL),  # a request to any URL can carry data out
    "post_webpage": _d(E, T, url=URL, content=TXT),
}


def _fields(*names: str) -> tuple[str, ...]:
    return tuple(f"output.{n}" for n in names)


# Field-level provenance (tools/fields.py): the fields of an untrusted result that the platform
# sets, as opposed to free text a third party wrote (subjects, bodies, titles, descriptions,
# locations, file contents, transaction subjects, message bodies, web pages). A mail's
# attachments stay free text: an attached event carries its creator's title and description.
_MAIL_FIELDS = _fields("id_", "sender", "recipients", "cc", "bcc", "status", "read", "timestamp")
_EVENT_FIELDS = _fields("id_", "start_time", "end_time", "participants", "all_day", "status")
_FILE_FIELDS = _fields("id_", "filename", "owner", "last_modified", "shared_with", "size")
_STRUCTURE: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        ["send_email", "get_unread_emails", "get_sent_emails", "get_received_emails"]
        + ["get_draft_emails", "search_emails"],
        _MAIL_FIELDS,
    ),
    "search_contacts_by_name": _fields("email"),  # the name is the sender's own display name
    "search_contacts_by_email": _fields("email"),
    **dict.fromkeys(
        ["search_calendar_events", "get_day_calendar_events", "create_calendar_event"]
        + ["reschedule_calendar_event", "add_calendar_event_participants"],
        _EVENT_FIELDS,
    ),
    **dict.fromkeys(
        ["append_to_file", "search_files_by_filename", "create_file", "delete_file"]
        + ["get_file_by_id", "list_files", "share_file", "search_files"],
        _FILE_FIELDS,
    ),
    "get_most_recent_transactions": _fields("id", "sender", "recipient", "amount", "date"),
    "get_channels": ("output",),  # the channel directory: names and nothing else
    "get_users_in_channel": ("output",),  # the member list
    "read_channel_messages": _fields("sender", "recipient"),
    "read_inbox": _fields("sender", "recipient"),
}


# AgentDojo's web is a dict of pages: a GET carries no cookie, credential or header of the
# user's, and reaches no private network, like autan's fetch_url.
_PUBLIC_READ = {"get_webpage"}


def _with_structure(rows: Mapping[str, Declared]) -> dict[str, Declared]:
    return {
        n: Declared(d.effect, d.trust, d.args, _STRUCTURE.get(n, ()), n in _PUBLIC_READ)
        for n, d in rows.items()
    }


DECLARATIONS: Mapping[str, Declared] = MappingProxyType(
    _with_structure({**WORKSPACE, **TRAVEL, **BANKING, **SLACK})
)

# A variant for measuring how much the choice matters: the travel platform's listings (not its
# reviews) declared trusted, as if the platform vouched for them.
_LISTINGS = {n for n, d in TRAVEL.items() if d.trust == U and "reviews" not in n}
TRUSTED_LISTINGS: Mapping[str, Declared] = MappingProxyType(
    {
        n: Declared(d.effect, T, d.args, d.structure, d.public_read) if n in _LISTINGS else d
        for n, d in DECLARATIONS.items()
    }
)

# The declarations before field-level provenance: every untrusted result untrusted all through.
WHOLE_OUTPUTS: Mapping[str, Declared] = MappingProxyType(
    {n: Declared(d.effect, d.trust, d.args, (), d.public_read) for n, d in DECLARATIONS.items()}
)
