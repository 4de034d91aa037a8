"""What the demo channel says: customer posts about Acme, a fictional electronics shop.

``CATALOGUE`` is played first, in order: hand-written posts chosen so that every default
policy rule has something to act on (complaints and questions addressed to the brand,
praise, talk about the brand that was not addressed to it, an opt-out, a ``#nobot``
author, a legal threat, health and finance topics, personal data, threads). Texts use
``{brand}`` where the brand's handle goes, so a demo can run under another handle.

After the catalogue the source generates posts from weighted ``TEMPLATES`` (placeholders
``{brand}``, ``{product}``, ``{order}``, ``{days}``, ``{pct}``), ``AUTHORS`` and
``PRODUCTS``; ``FOLLOW_UPS`` are posts an author adds under their own earlier post.
"""

from __future__ import annotations

import msgspec


class CatalogueEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One hand-written post; ``reply_to`` is the index of its parent in ``CATALOGUE``."""

    handle: str
    display_name: str
    text: str
    reply_to: int | None = None
    # The id of a post by the brand itself (not part of the feed) that this post answers;
    # the channel then reports the mention as addressed to the brand.
    reply_to_brand_post: str | None = None


def _e(
    handle: str,
    display_name: str,
    text: str,
    *,
    reply_to: int | None = None,
    reply_to_brand_post: str | None = None,
) -> CatalogueEntry:
    return CatalogueEntry(
        handle=handle,
        display_name=display_name,
        text=text,
        reply_to=reply_to,
        reply_to_brand_post=reply_to_brand_post,
    )


_DANA = ("@dana@social.example", "Dana Whitfield")
_INES = ("@ines@fedi.example", "Inês Carvalho")
_RAJ = ("@raj.patel.bsky.example", "Raj Patel")
_JO = ("@jo@mastodon.example", "Jo Lindqvist")
_LENA = ("@lena.k@social.example", "Lena Kowalski")
_OMAR = ("@omar@town.example", "Omar Haddad")

CATALOGUE: tuple[CatalogueEntry, ...] = (
    _e(*_DANA, "{brand} my order #4411 still hasn't arrived, 3 weeks now"),
    _e("@marco_r@mastodon.example", "Marco Rossi", "{brand} does the X200 support USB-C charging?"),
    _e(
        "@sofia@social.example",
        "Sofia Mendes",
        "Shoutout to {brand} support, they swapped my cracked Nova 5 screen in two days. "
        "Impressed.",
    ),
    _e(
        "@tomasz@fedi.example",
        "Tomasz",
        "acme's new headphones are meh. bass is muddy and the app keeps crashing",
    ),
    _e(
        *_INES,
        "@dana@social.example same here, order #4398 stuck in 'processing' since the 2nd",
        reply_to=0,
    ),
    _e(*_DANA, "{brand} glad it's not just me. tracking still says 'label created'", reply_to=4),
    _e(*_RAJ, "{brand} is there a student discount on the Pulse watch?"),
    _e(
        "@grumpy_gus@town.example",
        "Gus",
        "{brand} stop replying to me. I asked one question, I don't need five follow-ups.",
    ),
    _e(
        "@priya@social.example",
        "Priya N. #nobot",
        "{brand} the Volt 65W charger I bought last month makes a high-pitched whine. "
        "Is that normal?",
    ),
    _e(
        "@mkline@mastodon.example",
        "M. Kline",
        "{brand} you charged me for a return you never processed. If it isn't refunded by "
        "Friday my lawyer files a lawsuit.",
    ),
    _e(
        "@hannah@fedi.example",
        "Hannah B.",
        "{brand} wore the Pulse watch overnight and woke up with a rash under the strap. "
        "My doctor wants to know if the back plate contains nickel.",
    ),
    _e(
        "@kenji@social.example",
        "Kenji Sato",
        "Anyone else think Acme's shipping got way slower this year? Used to be 2 days.",
    ),
    _e(*_JO, "{brand} what's your return window for opened items?"),
    _e(
        *_OMAR,
        "{brand} the Aero speaker disconnects every 10 minutes since the 2.3 firmware "
        "update. Please roll it back.",
    ),
    _e(
        "@bea@fedi.example",
        "Bea",
        "Does this fix the Bluetooth dropouts on the Aero?",
        reply_to_brand_post="acme-post-8812",
    ),
    _e(
        "@felix@mastodon.example",
        "Felix Wagner",
        "Honestly the X200 are the best earbuds I've owned for the price. Acme nailed it.",
    ),
    _e(
        *_LENA,
        "{brand} please just call me on 555-0142 or email lena.k@mail.example. "
        "Order #4520, you sent the wrong colour.",
    ),
    _e(
        "@tariq@social.example",
        "Tariq",
        "{brand} I was charged twice on my credit card for order #4533. "
        "My bank says it's on your side.",
    ),
    _e(
        "@chloe@town.example",
        "Chloé",
        "{brand} do you ship to Canada? Checkout rejects my postal code.",
    ),
    _e(
        "@sam@fedi.example",
        "Sam O'Neill",
        "{brand} third replacement X200 and the left earbud still won't charge. I'm done.",
    ),
    _e(
        *_JO,
        "@sam@fedi.example had the same thing, cleaning the contacts with alcohol fixed mine",
        reply_to=19,
    ),
    _e(
        "@nadia@mastodon.example",
        "Nadia",
        "{brand} thanks for the quick refund, that was painless 👍",
    ),
    _e("@pete@social.example", "pete", "love how acme's 'next day delivery' means next week"),
    _e(*_RAJ, "{brand} is the Nova 5 compatible with eSIM on Vodafone?"),
    _e(
        "@yusuf@fedi.example",
        "Yusuf A.",
        "{brand} your chat bot keeps sending me in circles. I want to talk to a human.",
    ),
    _e(
        "@dealz4u@town.example",
        "DEALZ",
        "Get 50% off Acme gear with my code DEALZ at https://shady.example/acme",
    ),
    _e(*_OMAR, "{brand} still broken on 2.3.1. This is a $200 speaker.", reply_to=13),
    _e("@lucia@social.example", "Lucía", "{brand} when will the Pulse 2 be back in stock?"),
    _e(
        "@ben@mastodon.example",
        "Ben",
        "Comparing the Acme X200 and the Sonara Buds for running. Thoughts?",
    ),
    _e(
        "@jonas@fedi.example",
        "Jonas M.",
        "{brand} meine Bestellung #4602 ist beschädigt angekommen. Was nun?",
    ),
    _e(
        "@ada@social.example",
        "Ada",
        "{brand} the packaging on my last order was all recyclable cardboard. "
        "Small thing, appreciated.",
    ),
    _e(
        "@wei@town.example",
        "Wei Zhang",
        "{brand} can I change the delivery address on order #4617? I moved last week.",
    ),
    _e(
        "@ruth@fedi.example",
        "Ruth",
        "{brand} WHY does the app need my location to pair headphones??",
    ),
    _e(
        "@carlos@mastodon.example",
        "Carlos",
        "Is the sale price also valid in-store?",
        reply_to_brand_post="acme-post-8840",
    ),
    _e(*_LENA, "acme support closed my ticket without answering. classic."),
    _e(
        "@emma@social.example",
        "Emma",
        "{brand} does the Volt charger work with the Nova 4 or only the 5?",
    ),
    _e(*_RAJ, "{brand} also, does the student discount stack with the trade-in offer?", reply_to=6),
    _e(
        "@olu@fedi.example",
        "Olu",
        "{brand} parcel marked delivered but it's not here and the neighbours haven't seen it. "
        "Order #4650.",
    ),
    _e(
        "@olu@fedi.example",
        "Olu",
        "{brand} found it behind the bins 🙃 never mind, but maybe tell the courier to ring?",
        reply_to=37,
    ),
    _e(
        "@mira@town.example",
        "Mira",
        "My Acme Pulse tracked my half-marathon perfectly, battery still at 40% after.",
    ),
)

PRODUCTS: tuple[str, ...] = (
    "X200",
    "Nova 5",
    "Nova 4",
    "Pulse watch",
    "Pulse 2",
    "Aero speaker",
)

AUTHORS: tuple[tuple[str, str], ...] = (
    _DANA,
    _INES,
    _RAJ,
    _JO,
    _LENA,
    _OMAR,
    ("@aiko@social.example", "Aiko Tanaka"),
    ("@noah@fedi.example", "Noah"),
    ("@zara@mastodon.example", "Zara Q."),
    ("@finn@town.example", "Finn"),
    ("@leo.bsky.example", "Leo Martins"),
    ("@greta@social.example", "Greta #nobot"),
    ("@amir@fedi.example", "Amir"),
    ("@rosa@mastodon.example", "Rosa Delgado"),
)

# (template, weight): opt-outs and praise are rarer than complaints and questions.
TEMPLATES: tuple[tuple[str, int], ...] = (
    ("{brand} order #{order} still hasn't shipped, it's been {days} days", 4),
    ("{brand} does the {product} come with a charger in the box?", 3),
    ("{brand} my {product} stopped turning on after {days} days. Is that covered by warranty?", 3),
    ("the {product} from acme is honestly great", 2),
    ("{brand} thanks, the replacement {product} arrived today!", 2),
    ("is acme's {product} worth it or should I wait for the next one?", 2),
    ("{brand} how do I reset the {product} to factory settings?", 3),
    ("{brand} refund for order #{order} still not in my account after {days} days", 3),
    ("{brand} your courier left my {product} in the rain. Box is soaked.", 2),
    ("acme raised the price of the {product} by {pct}% this month. no thanks", 2),
    ("{brand} is the {product} waterproof or just splash-resistant?", 3),
    ("{brand} the Acme app logged me out again and forgot my {product}", 2),
    ("{brand} my new {product} arrived a day early, great service", 2),
    ("{brand} order #{order} arrived with the {product} missing from the box", 3),
    ("{brand} please stop replying to me", 1),
)

FOLLOW_UPS: tuple[str, ...] = (
    "{brand} any update on this?",
    "{brand} still waiting...",
    "{brand} never mind, sorted it out myself",
    "{brand} hello? it's been {days} days",
)
