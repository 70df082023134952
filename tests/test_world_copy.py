"""The ``world`` fixture is copied from one built per database: each test gets it fresh."""

import pytest

from models import Household, ServicePrice
from pm_admin.extensions import db


@pytest.mark.parametrize("turn", [1, 2])
def test_each_test_gets_a_fresh_world_with_the_same_ids(turn, world, make):
    """The second turn fails if the first one's changes were left in the copy it gets."""
    household = world["A"]["household"]
    assert (household.id, household.room, world["B"]["household"].id) == (1, "101", 2)
    assert (db.session.query(Household).count(), db.session.query(ServicePrice).count()) == (2, 2)
    added = make.household(household.building)
    assert added.id == 3  # the sequences go on from the world's, as after building it
    household.room = "909"
    db.session.delete(world["B"]["service_price"])
    db.session.commit()
