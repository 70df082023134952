"""Fixtures: the app on each database, factories, and logging in as a role.

The suite runs once per database in PM_TEST_DATABASES (default: SQLite and
PostgreSQL). PostgreSQL is required: when it cannot be reached the tests fail
with a message saying so; they are never skipped.

The suite's day is today, or ``PM_TEST_NOW`` (the company's wall clock, e.g.
``2028-02-29T00:30``): CI also runs the date-sensitive tests (marked ``dated``) on
such days. Data that depends on the day is built from ``clock.today()``; a test that
needs one particular moment sets it with ``clock_at``.
"""

import contextlib
import contextvars
import datetime as dt
import os
import re
import sqlite3
import threading
import uuid
from decimal import Decimal

import flask.globals
import flask_babel
import psycopg
import pytest
from sqlalchemy import text

from pm_admin import clock, create_app
from pm_admin.config import TestConfig
from pm_admin.extensions import db
from views import site

SUITE_NOW = dt.datetime.fromisoformat(os.environ["PM_TEST_NOW"]) if os.environ.get("PM_TEST_NOW") else None
clock.set(SUITE_NOW)  # before the support modules read the day

from billing_support import add_billing_records  # noqa: E402

from models import Building, Community, Household, Key, ParkingRental, Resident, ServicePrice, Staff, Vehicle
from models.key import lend_key
from models.staff import Role
from models.vehicle import ParkingSpace
from service_factories import ServiceFactories

PG_ADMIN_URL = os.environ.get("PM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASES = os.environ.get("PM_TEST_DATABASES", "sqlite,postgresql").split(",")
PASSWORD = "correct-horse-9"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def postgres_database(name: str) -> str:
    """A fresh, empty PostgreSQL database; its SQLAlchemy URL."""
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is required at {PG_ADMIN_URL} and could not be reached: {error}. "
            "Start it, or set PM_TEST_DATABASES=sqlite to run on SQLite only.",
            pytrace=False,
        )
    return PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"


def database_url_for(kind: str, tmp_path_factory, purpose: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp(purpose) / 'pm.sqlite3'}"
    return postgres_database(f"pm_admin_{purpose}_{os.getpid()}")


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request, tmp_path_factory):
    return database_url_for(request.param, tmp_path_factory, "suite")


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app(TestConfig.on(database_url, FILES_PATH=str(tmp_path_factory.mktemp("files"))), site=site)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def clean_database(request):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        # DELETE, not TRUNCATE: PostgreSQL gives each truncated table a new file, and the commit
        # waits for the disk (0.1-1 s a test on the shared server, a third of the suite's time).
        with db.engine.begin() as conn:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
            if conn.dialect.name == "postgresql":  # ids start at 1 again (SQLite's follow the largest left)
                conn.execute(text("SELECT setval(oid, 1, false) FROM pg_class "
                                  "WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"))


@pytest.fixture
def clock_at():
    """``clock_at(dt.datetime(2026, 11, 23, 9, 0))``: the company's wall clock stands there
    (or runs on from there with ``ticking=True``) for this test. ``clock_at.moved`` says
    whether the test has moved it (the ``world`` is then built at that moment)."""

    def move(moment, ticking=False):
        clock.set(moment, ticking=ticking)
        move.moved = True

    move.moved = False
    yield move
    clock.set(SUITE_NOW)


@pytest.fixture
def entered_at(clock_at):
    """``with entered_at(moment): post_payment(...)``: the block runs with the clock standing
    at ``moment``, as if the desk had entered that history on the day (a collector may not
    date a payment back past PAYMENT_BACKDATE_DAYS); then the clock runs on from where it was."""

    @contextlib.contextmanager
    def at(moment):
        before = clock.now()
        clock_at(moment)
        try:
            yield
        finally:
            clock_at(before, ticking=True)

    return at


@pytest.fixture
def app_context(app):
    # A request context in English: services called straight from tests raise
    # their messages in the language tests read (pages choose it by cookie); chosen now,
    # so that it holds for request contexts a test pushes inside this one, too.
    with app.test_request_context(headers={"Cookie": "pm_lang=en"}):
        flask_babel.get_locale()
        yield
        db.session.remove()


class Factory(ServiceFactories):
    """``make.household(room="1201")``: records with sensible defaults, committed."""

    def __init__(self):
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def _save(self, obj):
        db.session.add(obj)
        db.session.commit()
        return obj

    def community(self, name=None, **kw):
        return self._save(Community(name=name or f"小区{self._next()}", **kw))

    def building(self, community=None, name=None, **kw):
        return self._save(Building(community=community or self.community(), name=name or f"{self._next()}栋", **kw))

    def household(self, building=None, **kw):
        kw.setdefault("unit", "1")
        kw.setdefault("room", f"{self._next()}01")
        kw.setdefault("floor_area", Decimal("89.50"))
        return self._save(Household(building=building or self.building(), **kw))

    def resident(self, household=None, **kw):
        kw.setdefault("name", "王伟")
        kw.setdefault("phone", "13812345678")
        kw.setdefault("id_number", "11010519491231002X")
        return self._save(Resident(household=household or self.household(), **kw))

    def space(self, community, number=None, **kw):
        return self._save(ParkingSpace(community=community, number=number or f"B1-{self._next():03d}", **kw))

    def vehicle(self, household=None, plate=None, **kw):
        return self._save(Vehicle(household=household or self.household(), plate=plate or f"粤B{self._next():05d}", **kw))

    def key(self, household=None, **kw):
        kw.setdefault("cabinet_slot", f"A-{self._next():03d}")
        return self._save(Key(household=household or self.household(), **kw))

    def staff(self, role="receptionist", communities=(), username=None, all_communities=None, **kw):
        staff = Staff(
            username=username or f"{role}{self._next()}", display_name=kw.pop("display_name", "测试员工"),
            role=Role[role], active=kw.pop("active", True), communities=list(communities),
            all_communities=not communities if all_communities is None else all_communities,
        )
        staff.set_password(kw.pop("password", PASSWORD))
        return self._save(staff)


@pytest.fixture
def make(app_context):
    return Factory()


def build_world(make) -> dict:
    """Two communities, each with a building, a household and its records, by the clock as it is."""
    places = {}
    for label, name in (("A", "阳光花园"), ("B", "翠湖苑")):
        community = make.community(name)
        building = make.building(community, "1栋")
        household = make.household(building, room="101")
        space = make.space(community)
        places[label] = {
            "community": community, "building": building, "household": household, "space": space,
            "resident": make.resident(household), "vehicle": make.vehicle(household, parking_space=space),
            "key": make.key(household),
            "staff": make.staff("receptionist", communities=[community], username=f"clerk{label}"),
        }
    supervisor = make.staff("supervisor", username="boss")
    lend_key(places["A"]["key"], actor=supervisor, borrower="张三", purpose="看房")
    lend_key(places["B"]["key"], actor=supervisor, borrower="李四", purpose="维修")
    for place in places.values():
        place.update(make.service_records(place["household"], place["resident"], supervisor))
    db.session.commit()
    make.survey_records(places, supervisor)
    add_billing_records(places, supervisor)
    for place in places.values():  # a monthly rental of the space and a price-list line
        place["rental"] = ParkingRental(community=place["community"], household=place["household"],
                                        parking_space=place["space"], monthly_fee=Decimal("300.00"),
                                        starts_on=dt.date(2026, 1, 1), paid_through=dt.date(2026, 12, 31))
        place["service_price"] = ServicePrice(community=place["community"], name="室内保洁", unit="小时",
                                              price=Decimal("40.00"))
        db.session.add_all([place["rental"], place["service_price"]])
    db.session.commit()
    return places


class WorldCopy:
    """The world of the suite's day, built once per database and copied into the test
    database for each test that asks for it: the same rows, ids and sequences as a world
    built afresh (about 50 inserts through the ORM), in a fraction of the time.

    SQLite: an in-memory copy, taken and put back with the sqlite3 backup API.
    PostgreSQL: a copy of each table in the schema ``world`` of the test database, put back
    with ``INSERT ... SELECT`` and the sequences' values (into tables that ``clean_database``
    emptied). Not a template database: creating one is quick, but dropping the test
    database each time waits for a checkpoint of the whole shared server (0.4-6 s).
    """

    def __init__(self):
        self.places = None  # {label: {name: (model, id)}} once taken
        self.made = 0  # the factory's counter after the world, so later names stay as they were
        self.snapshot = None  # SQLite: the in-memory copy
        self.put_back_sql = None  # PostgreSQL: the statements that put the copy back
        self.finished_at = None  # the clock when the world was built

    def build(self, make) -> None:
        """Build the world and take the copy, on the suite's clock as a test starts on it."""
        clock.set(SUITE_NOW)  # where each test that moved the clock puts it back
        places = build_world(make)
        self.finished_at = clock.now()
        self.places = {label: {name: (type(obj), obj.id) for name, obj in place.items()}
                       for label, place in places.items()}
        self.made = make._n
        db.session.remove()
        if db.engine.dialect.name == "sqlite":
            self.snapshot = sqlite3.connect(":memory:")
            self._on_raw_connection(lambda test_db: test_db.backup(self.snapshot))
            return
        tables = [f'"{t.name}"' for t in db.metadata.sorted_tables]
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS world CASCADE; CREATE SCHEMA world"))
            for table in tables:
                conn.execute(text(f"CREATE TABLE world.{table} AS TABLE public.{table}"))
            sequences = conn.execute(text(
                "SELECT quote_ident(sequencename), last_value FROM pg_sequences "
                "WHERE schemaname = 'public' AND last_value IS NOT NULL")).all()
        self.put_back_sql = "; ".join(
            [f"INSERT INTO public.{table} SELECT * FROM world.{table}" for table in tables]
            + [f"SELECT setval('public.{name}', {value})" for name, value in sequences])

    def put_back(self, make) -> dict:
        """The world in the test database, its records loaded in the test's session, and
        the clock after the world's moments, as if it had just been built."""
        if clock.now() < self.finished_at:  # PM_TEST_NOW: a test put the clock back to it since
            clock.set(self.finished_at)
        db.session.remove()
        if self.snapshot is not None:
            self._on_raw_connection(lambda test_db: self.snapshot.backup(test_db))
        else:
            with db.engine.begin() as conn:
                conn.exec_driver_sql(self.put_back_sql)
        return self.loaded(make)

    def loaded(self, make) -> dict:
        make._n = self.made
        places = {label: {name: db.session.get(model, id) for name, (model, id) in place.items()}
                  for label, place in self.places.items()}
        db.session.expire_all()  # as after the world's last commit: read afresh on first use
        return places

    def discard(self) -> None:
        if self.snapshot is not None:
            self.snapshot.close()
        elif self.put_back_sql is not None:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA world CASCADE"))

    @staticmethod
    def _on_raw_connection(backup):
        connection = db.engine.raw_connection()
        try:
            backup(connection.driver_connection)
        finally:
            connection.close()


@pytest.fixture(scope="session")
def world_copy(app):
    copy = WorldCopy()
    yield copy
    with app.app_context():
        copy.discard()


@pytest.fixture
def world(request, make, world_copy):
    """Two communities, each with a building, a household and its records.
    ``world["A"]`` is where the logged-in test users work; ``world["B"]`` is not.

    A fresh copy for each test. A test that moved the clock first gets a world built at that moment."""
    if "clock_at" in request.fixturenames and request.getfixturevalue("clock_at").moved:
        return build_world(make)
    if world_copy.places is not None:
        return world_copy.put_back(make)
    world_copy.build(make)
    return world_copy.loaded(make)


def csrf_token(client) -> str:
    """The CSRF token from a real page of this session."""
    get = lambda url: in_own_app_context(client.get, url, follow_redirects=True)  # noqa: E731
    response = get("/admin/household/") if _logged_in(client) else get("/login")
    if response.status_code != 200:
        response = get("/login")
    match = CSRF.search(response.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def _logged_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def in_own_app_context(call, *args, **kwargs):
    """Run a test-client call as production would: in a fresh app context, so
    that neither ``g`` (the logged-in user) nor the database session of the test
    leaks into the request. Flask reuses an app context that is already pushed."""

    def run():
        flask.globals._cv_app.set(None)
        response = call(*args, **kwargs)
        response.get_data()  # a streamed body must run inside the same context
        return response

    return contextvars.copy_context().run(run)


class Browser:
    """A test client that logs in through /login and sends CSRF tokens like a browser."""

    def __init__(self, client, language="en"):
        self.client = client
        self._token = None
        if language:  # tests read messages in English; test_i18n checks the Chinese
            client.set_cookie("pm_lang", language)

    def __getattr__(self, name):
        return getattr(self.client, name)

    def get(self, *args, **kwargs):
        return in_own_app_context(self.client.get, *args, **kwargs)

    def raw_post(self, *args, **kwargs):
        return in_own_app_context(self.client.post, *args, **kwargs)

    def token(self) -> str:
        if self._token is None:
            self._token = csrf_token(self.client)
        return self._token

    def post(self, url, data=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token())
        response = self.raw_post(url, data=data, **kw)
        if url.startswith(("/login", "/logout")):
            self._token = None  # a new session: the next form carries a new token
        return response

    def login(self, username, password=PASSWORD):
        self._token = None
        response = self.post("/login", {"username": username, "password": password})
        self._token = None
        return response


@pytest.fixture
def browser(app):
    return Browser(app.test_client())


@pytest.fixture
def login_as(app, make, browser, world):
    """``login_as("collector")``: a user of that role working in community A."""

    def login(role, communities=None, **kw):
        staff = make.staff(role, communities=[world["A"]["community"]] if communities is None else communities, **kw)
        response = browser.login(staff.username)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return staff

    return login


def reload(obj):
    """``obj`` as the database has it now (what another request committed included)."""
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def flashed(response) -> list[str]:
    """The alert messages on a page."""
    html = response.get_data(as_text=True)
    return [re.sub(r"<[^>]+>|&times;", "", m).strip() for m in re.findall(r'<div class="alert[^"]*"[^>]*>(.*?)</div>', html, re.S)]


def unique_name() -> str:
    return uuid.uuid4().hex[:8]


def confirm_at_the_desk(browser, household_id: int, form: dict, *, counted: bool = False):
    """Post the cash desk's form, then confirm on the confirmation page (ticking "counted
    again" with ``counted``): the two clicks a collector makes. Returns the last response."""
    url = f"/admin/cashier/post/{household_id}/"
    response = browser.post(url, form)
    shown = re.search(r'name="confirmation" type="hidden" value="([0-9a-f]+)"', response.get_data(as_text=True))
    if response.status_code != 200 or shown is None:
        return response
    confirmed = dict(form, confirmation=shown.group(1))
    if counted:
        confirmed["far_above_counted"] = "y"
    return browser.post(url, confirmed)


def at_once(app, steps, *, refused=(Exception,)):
    """Run ``steps`` as rival requests, each in its own thread and session: ``step(ready)``
    loads what it needs, calls ``ready()``, then acts. On PostgreSQL they are released
    together; SQLite serialises writers on the whole database, so there they take turns.
    Returns, in the order they finished, what each committed step returned or the error
    of each refused one (rolled back)."""
    concurrent = db.engine.dialect.name == "postgresql"
    barrier, outcomes = threading.Barrier(len(steps) if concurrent else 1), []

    def run(step):
        with app.test_request_context(headers={"Cookie": "pm_lang=en"}):
            try:
                outcome = step(lambda: barrier.wait(timeout=10))
                db.session.commit()
                outcomes.append(outcome)
            except refused as error:
                db.session.rollback()
                outcomes.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(step,)) for step in steps]
    for thread in threads:
        thread.start()
        if not concurrent:
            thread.join(timeout=30)
    for thread in threads:
        thread.join(timeout=30)
    return outcomes
