from __future__ import annotations

import csv
import io

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import translation

from sightings.models import Deployment, Membership, Species, Team

from .conftest import BASE_DIR

REQUIRED = [
    "Panthera tigris altaica", "Panthera pardus orientalis", "Panthera uncia", "Sus scrofa",
    "Cervus nippon", "Capreolus pygargus", "Cervus canadensis", "Moschus moschiferus",
    "Ursus thibetanus", "Ursus arctos", "Lynx lynx", "Prionailurus bengalensis",
    "Nyctereutes procyonoides", "Meles leucurus", "Martes flavigula", "Martes zibellina",
    "Capra sibirica", "Ovis ammon", "Otocolobus manul", "Vulpes vulpes", "Canis lupus",
]  # fmt: skip


def test_the_catalogue_holds_the_regions_species_and_classes(db):
    names = set(Species.objects.values_list("scientific_name", flat=True))
    assert set(REQUIRED) <= names
    kinds = set(Species.objects.exclude(kind="animal").values_list("kind", flat=True))
    assert kinds == {"blank", "human", "vehicle", "unknown"}


def test_the_catalogue_matches_its_csv(db):
    path = BASE_DIR / "sightings/migrations/0002_species_catalogue.csv"
    with path.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert Species.objects.count() == len(rows)
    tiger = Species.objects.get(scientific_name="Panthera tigris altaica")
    assert (tiger.name_en, tiger.name_zh, tiger.name_ru) == (
        "Amur tiger",
        "东北虎",
        "Амурский тигр",
    )
    assert (tiger.iucn_status, tiger.is_sensitive) == ("EN", True)


def test_only_the_three_big_cats_are_sensitive(db):
    sensitive = Species.objects.filter(is_sensitive=True).values_list("scientific_name", flat=True)
    assert sorted(sensitive) == [
        "Panthera pardus orientalis",
        "Panthera tigris altaica",
        "Panthera uncia",
    ]


def test_common_names_follow_the_active_language(db):
    leopard = Species.objects.get(scientific_name="Panthera pardus orientalis")
    with translation.override("zh-hans"):
        assert leopard.common_name == "东北豹"
    with translation.override("ru"):
        assert leopard.common_name == "Дальневосточный леопард"


def test_seed_demo_creates_two_teams_with_a_user_per_role(db):
    output = io.StringIO()
    call_command("seed_demo", stdout=output)
    assert set(Team.objects.values_list("country", flat=True)) == {"CN", "RU"}
    assert Deployment.objects.count() == 2
    uploader = get_user_model().objects.get(username="cn-uploader")
    assert uploader.check_password("demo")
    assert list(uploader.memberships.values_list("role", flat=True)) == ["uploader"]
    assert Membership.objects.count() == 6
    assert get_user_model().objects.get(username="admin").is_superuser
    assert "cn-uploader" in output.getvalue()


def test_seed_demo_can_run_again(db):
    call_command("seed_demo", stdout=io.StringIO())
    output = io.StringIO()
    call_command("seed_demo", stdout=output)
    assert Team.objects.count() == 2
    assert get_user_model().objects.count() == 7
    assert "(created)" not in output.getvalue()
