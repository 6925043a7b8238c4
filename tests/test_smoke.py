from services.models import Service


def test_the_catalogue_is_seeded_with_every_row_of_domain_md(db):
    from services.seed_catalogue import ROWS

    assert Service.objects.count() == len(ROWS) == 57
