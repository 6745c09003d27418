"""Demo data.

``seed_demo_data`` (``python -m server seed``, run by ``make run``): a small, believable
marketplace made through the services, so balances, stock and the ledger agree exactly as
they would after real use: every balance starts as a DEPOSIT, orders are placed, completed
and cancelled by the order service, money moves by the wallet service.

``seed_scale`` (``python -m server seed --scale N``): a large data set for benchmarks, built
in memory with a seeded random generator (the same N gives the same rows) and written with
``bulk_create`` in batches. It keeps the same invariants (stock never negative, every
balance the sum of its ledger entries, comments only on posts that were published) but
bypasses the services, which would take minutes at this size.

Both only write into an empty database: run twice, the second run does nothing.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tortoise import connections
from tortoise.models import Model
from tortoise.transactions import in_transaction

from core.settings import get_settings
from models.catalogue import Product, ProductStatus
from models.orders import Order, OrderItem, OrderStatus
from models.posts import Comment, Post, PostStatus, PostTag
from models.user import Role, User, UserStatus
from models.wallet import LedgerEntry, LedgerKind, Transfer
from services import catalogue, orders, posts, wallet
from services.passwords import PasswordHasher

DEMO_PASSWORD = "Agora-demo-1"  # noqa: S105 - public demo credential, documented in README

# Every table the seed writes, in foreign-key order (the report lists them in this order).
SEEDED_MODELS: tuple[type[Model], ...] = (
    User,
    Product,
    Post,
    PostTag,
    Comment,
    Order,
    OrderItem,
    Transfer,
    LedgerEntry,
)


@dataclass
class SeedReport:
    """Rows written per table; ``skipped`` says why nothing was written."""

    rows: dict[str, int] = field(default_factory=dict)
    skipped: str | None = None

    def summary(self) -> str:
        if self.skipped:
            return f"nothing seeded: {self.skipped}"
        return "seeded " + ", ".join(f"{count} {table}" for table, count in self.rows.items())


async def _existing_rows() -> int:
    return sum([await model.all().count() for model in SEEDED_MODELS])


async def _row_counts() -> dict[str, int]:
    return {model._meta.db_table: await model.all().count() for model in SEEDED_MODELS}


def _default_hasher() -> PasswordHasher:
    return PasswordHasher.from_settings(get_settings())


# --- the demo data set --------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    name: str
    email: str
    role: Role
    balance_cents: int  # deposited when the account is made
    status: UserStatus = UserStatus.ACTIVE


DEMO_USERS = (
    DemoUser("Ada Admin", "admin@agora.test", Role.ADMIN, 100_000),
    DemoUser("Mo Moderator", "moderator@agora.test", Role.MODERATOR, 50_000),
    DemoUser("Uma User", "uma@agora.test", Role.USER, 25_000),
    DemoUser("Bo Buyer", "bo@agora.test", Role.USER, 10_000),
    DemoUser("Cy Shutterbug", "cy@agora.test", Role.USER, 30_000),
    # Registered but never verified: cannot log in until the email link is followed.
    DemoUser("Pat Pending", "pat@agora.test", Role.USER, 0, UserStatus.PENDING_VERIFICATION),
)
SELLER = "admin@agora.test"  # only WRITE_PRODUCTS (ADMIN) sells

# (key, name, description, price, stock, archived)
DEMO_PRODUCTS = (
    ("board", "Walnut cutting board", "End-grain walnut, oiled, 40 x 30 cm.", "34.00", 12, False),
    (
        "mug",
        "Hand-thrown mug",
        "Stoneware, 350 ml, speckled glaze. Each one differs.",
        "18.50",
        30,
        False,
    ),
    (
        "tote",
        "Linen tote bag",
        "Washed linen with a long strap and an inner pocket.",
        "22.00",
        25,
        False,
    ),
    (
        "candles",
        "Beeswax candle set",
        "Three hand-dipped tapers, about 8 hours each.",
        "15.75",
        40,
        False,
    ),
    (
        "notebook",
        "Field notebook (3 pack)",
        "Dot grid, 48 pages each, fits a back pocket.",
        "9.90",
        100,
        False,
    ),
    ("skillet", "Cast-iron skillet", "26 cm, pre-seasoned, lasts a lifetime.", "45.00", 6, False),
    (
        "throw",
        "Wool throw blanket",
        "Undyed wool from a local flock, 130 x 170 cm.",
        "79.00",
        4,
        False,
    ),
    (
        "camera",
        "Vintage film camera",
        "A serviced 1970s rangefinder with a 40 mm lens.",
        "120.00",
        1,
        False,
    ),
    ("planter", "Ceramic planter", "No longer made: the glaze supplier closed.", "27.00", 10, True),
)

# (key, author email, title, body, tags, published, [(commenter email, comment)])
DEMO_POSTS: tuple[tuple[str, str, str, str, list[str], bool, list[tuple[str, str]]], ...] = (
    (
        "welcome",
        "admin@agora.test",
        "Welcome to Agora",
        "Agora is a small marketplace run by its members. Post what you make, ask what you "
        "need, and keep it kind.\n\nThe catalogue is open: every order is paid from your "
        "wallet and refunded in full if it is cancelled before it ships.",
        ["announcements", "community"],
        True,
        [
            ("moderator@agora.test", "Glad to be here. Ping me if anything looks off."),
            ("uma@agora.test", "Love the idea of paying from a wallet, no card needed."),
            ("bo@agora.test", "First order placed already!"),
        ],
    ),
    (
        "guidelines",
        "moderator@agora.test",
        "Community guidelines",
        "Be specific, be honest about condition and sizes, and credit the makers you "
        "mention. Posts that sell outside the catalogue will be archived.",
        ["announcements", "rules"],
        True,
        [("cy@agora.test", "Short and clear. Thanks, Mo.")],
    ),
    (
        "pottery",
        "uma@agora.test",
        "My first pottery class",
        "Six weeks on the wheel and I finally centred a lump of clay without it flying off. "
        "The trick was slowing the wheel down, not speeding it up.",
        ["pottery", "crafts"],
        True,
        [
            ("bo@agora.test", "Post a picture of the first bowl!"),
            ("admin@agora.test", "The mugs in the catalogue started exactly like this."),
            ("cy@agora.test", "Slower wheel, noted. I gave up after two lessons."),
        ],
    ),
    (
        "skillet",
        "bo@agora.test",
        "Looking for a good cast-iron skillet",
        "Mine warped on an induction hob. Is 26 cm big enough for two people? Any seasoning "
        "tips welcome.",
        ["cooking", "question"],
        True,
        [
            ("uma@agora.test", "26 cm is perfect for two. Thin coats of oil, lots of them."),
            ("admin@agora.test", "We have a few in the catalogue, pre-seasoned."),
        ],
    ),
    (
        "film",
        "cy@agora.test",
        "Film photography on a budget",
        "You do not need a Leica. A serviced rangefinder, a roll of expired film and a "
        "friend with a darkroom will get you a long way.",
        ["photography", "film"],
        True,
        [("bo@agora.test", "Where do you get expired film these days?")],
    ),
    (
        "market",
        "bo@agora.test",
        "Weekend market recap",
        "Three stalls of ceramics, one of honey and a very patient knife sharpener. "
        "Next one is in a month.",
        ["markets", "community"],
        True,
        [],
    ),
    (
        "glazing",
        "uma@agora.test",
        "Notes for a glazing tutorial",
        "Draft: dipping versus brushing, and why the kiln shelf needs a wash first.",
        ["pottery"],
        False,
        [],
    ),
    (
        "darkroom",
        "cy@agora.test",
        "Darkroom setup ideas",
        "Unfinished: a bathroom, a red bulb, three trays and a lot of tape.",
        ["photography"],
        False,
        [],
    ),
)

# (key, buyer email, [(product key, quantity)], what happens next)
DEMO_ORDERS = (
    ("o1", "bo@agora.test", [("mug", 2), ("notebook", 1)], OrderStatus.COMPLETED),
    ("o2", "uma@agora.test", [("board", 1)], OrderStatus.PAID),
    ("o3", "cy@agora.test", [("throw", 1), ("candles", 2)], OrderStatus.CANCELLED),
    ("o4", "cy@agora.test", [("camera", 1)], OrderStatus.COMPLETED),
    ("o5", "moderator@agora.test", [("tote", 1)], OrderStatus.PAID),
    ("o6", "uma@agora.test", [("skillet", 1), ("candles", 1)], OrderStatus.COMPLETED),
)

# (key, sender email, receiver email, amount, note)
DEMO_TRANSFERS = (
    ("t1", "uma@agora.test", "bo@agora.test", "20.00", "Thanks for the glazing tips"),
    ("t2", "moderator@agora.test", "uma@agora.test", "15.00", "Lunch money"),
    ("t3", "bo@agora.test", "cy@agora.test", "5.50", "My half of the film"),
    ("t4", "admin@agora.test", "moderator@agora.test", "50.00", "Moderation bounty"),
)


async def seed_demo_data(hasher: PasswordHasher | None = None) -> SeedReport:
    """Create the demo data set when the database is empty, in one transaction."""
    if await _existing_rows():
        return SeedReport(skipped="the database already has data")
    password_hash = (hasher or _default_hasher()).hash(DEMO_PASSWORD)
    async with in_transaction():
        users = await _demo_users(password_hash)
        admin = users[SELLER]
        products = {
            key: await catalogue.create_product(admin, name, text, Decimal(price), stock)
            for key, name, text, price, stock, _ in DEMO_PRODUCTS
        }
        for key, *_, archived in DEMO_PRODUCTS:
            if archived:
                await catalogue.archive_product(products[key].id)
        for _, author, title, body, tags, published, comments in DEMO_POSTS:
            post = await posts.create_post(users[author], title, body, tags, published)
            for commenter, text in comments:
                await posts.add_comment(users[commenter], post.id, text)
        for key, buyer, lines, outcome in DEMO_ORDERS:
            order = await orders.place_order(
                users[buyer],
                [orders.OrderLine(products[product].id, quantity) for product, quantity in lines],
                f"seed-{key}",
            )
            if outcome is OrderStatus.COMPLETED:
                await orders.complete_order(admin, order.id)
            elif outcome is OrderStatus.CANCELLED:
                await orders.cancel_order(users[buyer], order.id)
        for key, sender, receiver, amount, note in DEMO_TRANSFERS:
            await wallet.transfer(
                users[sender], users[receiver].id, Decimal(amount), note, f"seed-{key}"
            )
    return SeedReport(await _row_counts())


async def _demo_users(password_hash: str) -> dict[str, User]:
    now = datetime.now(UTC)
    users: dict[str, User] = {}
    for demo in DEMO_USERS:
        active = demo.status is UserStatus.ACTIVE
        users[demo.email] = await User.create(
            name=demo.name,
            email=demo.email,
            password_hash=password_hash,
            role=demo.role,
            status=demo.status,
            email_verified_at=now if active else None,
        )
        if demo.balance_cents:
            await wallet.deposit(users[demo.email].id, Decimal(demo.balance_cents) / 100)
    # The wallet service changed balances in the database, not on these instances.
    return {user.email: user for user in await User.all()}


# --- the scale data set -------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


SCALE_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # fixed, so the same N gives the same rows
SCALE_SPAN = timedelta(days=365)
BATCH_SIZE = 2_000

FIRST_NAMES = _words(
    "Ada Alan Amara Ana Ben Bo Chen Cy Dara Eli Emma Femi Grace Hana Ines Ivan Jo Kai Lea "
    "Lin Luca Mara Mo Nia Noor Omar Pia Raj Rosa Sam Sara Tao Uma Vera Wen Yara Zoe"
)
LAST_NAMES = _words(
    "Abara Berg Costa Diallo Eriksen Fischer Garcia Haddad Ito Jensen Kowalski Larsen "
    "Moreau Nakamura Okafor Petrov Quinn Rossi Silva Tanaka Urban Varga Weber Xu Yilmaz Zhou"
)
TOPICS = _words(
    "pottery glazing woodwork knitting baking coffee cycling film photography gardening "
    "bookbinding leathercraft printmaking weaving sourdough camping repair upcycling"
)
TAGS = _words(
    "crafts community question tips review markets cooking photography pottery tools "
    "vintage diy garden textiles announcements"
)
TITLE_TEMPLATES = (
    "Getting started with {topic}",
    "What I learned from a year of {topic}",
    "Ask: the best tools for {topic}?",
    "{Topic} on a budget",
    "My {topic} setup, finally finished",
    "Mistakes I made in {topic}",
    "A weekend of {topic}",
    "Is {topic} worth the time?",
)
SENTENCES = (
    "Started slowly and it paid off.",
    "The second attempt went much better than the first.",
    "Would love to hear how others handle this.",
    "A local workshop helped more than any video.",
    "Patience matters more than expensive tools.",
    "I kept notes for every session and it shows.",
    "The hardest part was finding good materials nearby.",
    "Happy to share the details if anyone asks.",
    "Cheap tools are fine until they are not.",
    "Next month I will try a different approach.",
)
COMMENTS = (
    "Great write-up, thanks!",
    "I had the same problem last year.",
    "Which supplier did you use?",
    "This is really helpful for beginners.",
    "Could you post a photo?",
    "Bookmarked for the weekend.",
    "I disagree a little, but good points.",
    "How long did that take you?",
    "Same here, it gets easier.",
    "Nice one!",
)
PRODUCT_ADJECTIVES = _words("Handmade Vintage Oak Linen Ceramic Wool Brass Copper Recycled Walnut")
PRODUCT_NOUNS = _words("bowl mug lamp stool tote scarf notebook planter knife basket")


def scale_user_count(posts: int) -> int:
    """A few hundred users for 10,000 posts (between 20 and 500)."""
    return max(20, min(500, posts // 25))


def scale_product_count(posts: int) -> int:
    return max(10, min(1_000, posts // 100))


def scale_order_count(posts: int) -> int:
    return max(10, min(2_000, posts // 20))


class _ScaleBuilder:
    """Builds every row in memory, with explicit ids (the tables are empty) so foreign keys
    need no round trip, and the money moves in time order so no balance goes negative."""

    def __init__(self, posts: int, password_hash: str, seed: int) -> None:
        self.random = random.Random(seed)  # noqa: S311 - reproducible demo data, no secrets
        self.posts_wanted = posts
        self.password_hash = password_hash
        self.users: list[User] = []
        self.products: list[Product] = []
        self.posts: list[Post] = []
        self.post_tags: list[PostTag] = []
        self.comments: list[Comment] = []
        self.orders: list[Order] = []
        self.order_items: list[OrderItem] = []
        self.transfers: list[Transfer] = []
        self.ledger: list[LedgerEntry] = []
        self.balances: dict[int, int] = defaultdict(int)

    def moment(self, start: datetime = SCALE_EPOCH - SCALE_SPAN) -> datetime:
        """A random instant between ``start`` and the epoch (whole seconds)."""
        seconds = max(1, int((SCALE_EPOCH - start).total_seconds()))
        return start + timedelta(seconds=self.random.randrange(seconds))

    def money(self, user_id: int, kind: LedgerKind, cents: int, at: datetime, **ref: int) -> None:
        self.balances[user_id] += cents
        assert self.balances[user_id] >= 0, "the scale seed drove a balance negative"
        self.ledger.append(
            LedgerEntry(
                id=len(self.ledger) + 1,
                user_id=user_id,
                kind=kind,
                amount_cents=cents,
                created_at=at,
                **ref,
            )
        )

    def build(self) -> None:
        self.build_users()
        self.build_products()
        self.build_posts()
        self.build_orders()
        self.build_transfers()
        for user in self.users:
            user.balance_cents = self.balances[user.id]

    def build_users(self) -> None:
        demo = [(d.name, d.email, d.role) for d in DEMO_USERS if d.status is UserStatus.ACTIVE]
        for index in range(scale_user_count(self.posts_wanted)):
            user_id = index + 1
            if index < len(demo):
                name, email, role = demo[index]
            else:
                first = self.random.choice(FIRST_NAMES)
                last = self.random.choice(LAST_NAMES)
                name, email = f"{first} {last}", f"{first}.{last}.{user_id}@agora.test".lower()
                roll = self.random.random()
                role = Role.ADMIN if roll < 0.02 else Role.MODERATOR if roll < 0.07 else Role.USER
            joined = SCALE_EPOCH - SCALE_SPAN - timedelta(days=30 - index % 30)
            self.users.append(
                User(
                    id=user_id,
                    name=name,
                    email=email,
                    password_hash=self.password_hash,
                    role=role,
                    status=UserStatus.ACTIVE,
                    email_verified_at=joined,
                    created_at=joined,
                )
            )
            deposit = self.random.randrange(50, 2_000) * 100
            self.money(user_id, LedgerKind.DEPOSIT, deposit, joined)

    def build_products(self) -> None:
        sellers = [user for user in self.users if user.role is Role.ADMIN]
        for index in range(scale_product_count(self.posts_wanted)):
            name = f"{self.random.choice(PRODUCT_ADJECTIVES)} {self.random.choice(PRODUCT_NOUNS)}"
            self.products.append(
                Product(
                    id=index + 1,
                    seller_id=self.random.choice(sellers).id,
                    name=f"{name} no. {index + 1}",
                    description=" ".join(self.random.sample(SENTENCES, 2)),
                    price_cents=self.random.randrange(1, 300) * 100
                    + self.random.choice((0, 50, 99)),
                    stock=self.random.randrange(0, 200),
                    status=ProductStatus.ARCHIVED
                    if self.random.random() < 0.05
                    else ProductStatus.ACTIVE,
                    created_at=self.moment(),
                )
            )

    def build_posts(self) -> None:
        for index in range(self.posts_wanted):
            post_id = index + 1
            topic = self.random.choice(TOPICS)
            title = self.random.choice(TITLE_TEMPLATES).format(
                topic=topic, Topic=topic.capitalize()
            )
            created = self.moment()
            roll = self.random.random()
            status = (
                PostStatus.DRAFT
                if roll < 0.10
                else PostStatus.ARCHIVED
                if roll < 0.15
                else PostStatus.PUBLISHED
            )
            published = None if status is PostStatus.DRAFT else self.moment(created)
            tags = sorted(self.random.sample(TAGS, self.random.randrange(0, 4)))
            self.posts.append(
                Post(
                    id=post_id,
                    author_id=self.random.choice(self.users).id,
                    title=title,
                    body="\n\n".join(" ".join(self.random.sample(SENTENCES, 3)) for _ in range(2)),
                    status=status,
                    tags=tags,
                    published_at=published,
                    created_at=created,
                )
            )
            first_tag_id = len(self.post_tags) + 1
            self.post_tags.extend(
                PostTag(id=first_tag_id + n, post_id=post_id, tag=tag) for n, tag in enumerate(tags)
            )
            if published is not None:  # comments only where the post was published
                for _ in range(self.random.randrange(1, 11)):
                    self.comments.append(
                        Comment(
                            id=len(self.comments) + 1,
                            post_id=post_id,
                            author_id=self.random.choice(self.users).id,
                            body=self.random.choice(COMMENTS),
                            created_at=self.moment(published),
                        )
                    )

    def build_orders(self) -> None:
        active = [p for p in self.products if p.status is ProductStatus.ACTIVE]
        times = sorted(self.moment() for _ in range(scale_order_count(self.posts_wanted)))
        for placed in times:
            buyer = self.random.choice(self.users)
            chosen = self.random.sample(active, min(len(active), self.random.randrange(1, 4)))
            lines = [
                (product, quantity)
                for product in sorted(chosen, key=lambda p: p.id)
                if product.stock >= (quantity := self.random.randrange(1, 4))
            ]
            total = sum(product.price_cents * quantity for product, quantity in lines)
            if not lines or self.balances[buyer.id] < total:
                continue  # what the order service answers with OUT_OF_STOCK / INSUFFICIENT_FUNDS
            roll = self.random.random()
            status = (
                OrderStatus.COMPLETED
                if roll < 0.55
                else OrderStatus.PAID
                if roll < 0.85
                else OrderStatus.CANCELLED
            )
            order_id = len(self.orders) + 1
            self.orders.append(
                Order(
                    id=order_id,
                    buyer_id=buyer.id,
                    status=status,
                    total_cents=total,
                    created_at=placed,
                )
            )
            self.money(buyer.id, LedgerKind.ORDER_PAYMENT, -total, placed, order_id=order_id)
            later = placed + timedelta(hours=self.random.randrange(1, 72))
            for product, quantity in lines:
                self.order_items.append(
                    OrderItem(
                        id=len(self.order_items) + 1,
                        order_id=order_id,
                        product_id=product.id,
                        quantity=quantity,
                        unit_price_cents=product.price_cents,
                    )
                )
                if status is not OrderStatus.CANCELLED:  # cancelled: restocked
                    product.stock -= quantity
            if status is OrderStatus.CANCELLED:
                self.money(buyer.id, LedgerKind.ORDER_REFUND, total, later, order_id=order_id)
            elif status is OrderStatus.COMPLETED:
                proceeds: dict[int, int] = defaultdict(int)
                for product, quantity in lines:
                    proceeds[product.seller_id] += product.price_cents * quantity
                for seller_id in sorted(proceeds):
                    self.money(
                        seller_id,
                        LedgerKind.SALE_PROCEEDS,
                        proceeds[seller_id],
                        later,
                        order_id=order_id,
                    )

    def build_transfers(self) -> None:
        times = sorted(self.moment() for _ in range(scale_order_count(self.posts_wanted)))
        for sent in times:
            sender, receiver = self.random.sample(self.users, 2)
            cents = min(self.random.randrange(1, 50) * 100, self.balances[sender.id])
            if cents <= 0:
                continue
            transfer_id = len(self.transfers) + 1
            self.transfers.append(
                Transfer(
                    id=transfer_id,
                    sender_id=sender.id,
                    receiver_id=receiver.id,
                    amount_cents=cents,
                    note=self.random.choice((None, "Thanks!", "For the workshop", "Split")),
                    created_at=sent,
                )
            )
            self.money(sender.id, LedgerKind.TRANSFER_OUT, -cents, sent, transfer_id=transfer_id)
            self.money(receiver.id, LedgerKind.TRANSFER_IN, cents, sent, transfer_id=transfer_id)

    def tables(self) -> list[tuple[type[Model], Sequence[Model]]]:
        return [
            (User, self.users),
            (Product, self.products),
            (Post, self.posts),
            (PostTag, self.post_tags),
            (Comment, self.comments),
            (Order, self.orders),
            (OrderItem, self.order_items),
            (Transfer, self.transfers),
            (LedgerEntry, self.ledger),
        ]


async def seed_scale(
    posts: int, hasher: PasswordHasher | None = None, seed: int = 20_261_126
) -> SeedReport:
    """``posts`` posts (about 5 comments each on the published ones), a few hundred users,
    products, orders and transfers: bulk inserts in one transaction, only into an empty
    database. The demo accounts (same credentials) are among the users."""
    if posts < 1:
        raise ValueError("the scale must be at least 1 post")
    if await _existing_rows():
        return SeedReport(skipped="the database already has data")
    builder = _ScaleBuilder(posts, (hasher or _default_hasher()).hash(DEMO_PASSWORD), seed)
    builder.build()
    report = SeedReport()
    async with in_transaction():
        for model, rows in builder.tables():
            if rows:
                await model.bulk_create(rows, batch_size=BATCH_SIZE)
            report.rows[model._meta.db_table] = len(rows)
        await _advance_sequences([model for model, _ in builder.tables()])
    await analyze_tables([model for model, _ in builder.tables()])
    return report


async def analyze_tables(models: Sequence[type[Model]]) -> None:
    """Fresh planner statistics for tables just bulk-loaded. Without them PostgreSQL plans
    from its empty-table defaults until autovacuum analyzes them (never, where autovacuum is
    off, as on the benchmark machine): the feed's first page then read every published post
    through a bitmap scan and a top-N sort instead of 21 entries of its index."""
    connection = connections.get("default")
    for model in models:
        await connection.execute_script(f'ANALYZE "{model._meta.db_table}"')


async def _advance_sequences(models: Sequence[type[Model]]) -> None:
    """Rows were inserted with explicit ids: move PostgreSQL's sequences past them (SQLite
    continues after the largest rowid by itself)."""
    connection = connections.get("default")
    if connection.capabilities.dialect != "postgres":
        return
    for model in models:
        table = model._meta.db_table
        await connection.execute_query(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
            f'COALESCE((SELECT MAX("id") FROM "{table}"), 0) + 1, false)'
        )
