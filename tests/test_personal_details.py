"""Personal details in children's words: what must be flagged, and ordinary sentences that must not be."""

from __future__ import annotations

import pytest

from ingest.personal_details import FIRST_NAMES, KINDS, Detail, find_personal_details

FLAGGED = [
    # phones
    ("My number is 07700 900123", "phone", "07700 900123"),
    ("text me on 07700900123", "phone", "07700900123"),
    ("call my mum on +44 7700 900123 if I'm late", "phone", "+44 7700 900123"),
    ("call 0044 7700 900123", "phone", "0044 7700 900123"),
    ("our home phone is 020 7946 0958", "phone", "020 7946 0958"),
    ("the number is +44 (0)20 7946 0958", "phone", "+44 (0)20 7946 0958"),
    ("ring 0161 496 0000 for my nan", "phone", "0161 496 0000"),
    ("you can ring (0161) 496 0000", "phone", "(0161) 496 0000"),
    ("my mum's number is 0 7 7 0 0 9 0 0 1 2 3", "phone", "0 7 7 0 0 9 0 0 1 2 3"),
    # emails
    ("email me at jack.smith@example.com", "email", "jack.smith@example.com"),
    ("my email is jacksmith at gmail dot com", "email", "jacksmith at gmail dot com"),
    # postcodes
    ("my postcode is KV1 2AB", "postcode", "KV1 2AB"),
    ("the letter went to SW1A 1AA", "postcode", "SW1A 1AA"),
    ("my postcode is sw1a 1aa", "postcode", "sw1a 1aa"),
    # addresses
    ("I live at 12 Acacia Road", "address", "12 Acacia Road"),
    ("we live at 4b Station Road, Kestrel Vale", "address", "4b Station Road"),
    ("our flat is 3 Tower Court", "address", "3 Tower Court"),
    ("we live on Mill Lane near the shop", "address", "Mill Lane"),
    ("i live on mill lane", "address", "mill lane"),
    # schools
    ("I go to St Mary's Primary", "school", "St Mary's Primary"),
    ("I used to go to St. Joseph's RC Primary", "school", "St. Joseph's RC Primary"),
    ("Holy Trinity C of E Primary is near us", "school", "Holy Trinity C of E Primary"),
    ("Kestrel Vale Academy is my school", "school", "Kestrel Vale Academy"),
    ("my brother goes to Hillside High School", "school", "Hillside High School"),
    ("she goes to Kingsmead Primary School", "school", "Kingsmead Primary School"),
    ("At Oakfield Primary we have a garden", "school", "Oakfield Primary"),
    ("i go to oakfield primary", "school", "oakfield primary"),
    # names after cues
    ("my friend Jack is funny", "name", "Jack"),
    ("my friend jack came round", "name", "jack"),
    ("my best friend, Kacper, is Polish", "name", "Kacper"),
    ("there's a girl called Amira in my class", "name", "Amira"),
    ("my friend is called Tyler Jones", "name", "Tyler Jones"),
    ("I'm called Zac", "name", "Zac"),
    ("my teacher Mrs Patel helps me", "name", "Mrs Patel"),
    ("Tell Mrs Khan I said hello", "name", "Mrs Khan"),
    ("Mr O'Brien is our teacher", "name", "Mr O'Brien"),
    ("I'm Oliver and I'm 9", "name", "Oliver"),
    ("i'm amy and i'm 8", "name", "amy"),
    ("my name is Zainab Hussain", "name", "Zainab Hussain"),
    ("my sister Aisha is 5", "name", "Aisha"),
    ("my nan Pat makes tea", "name", "Pat"),
    # names from the bundled list
    ("me and Chloe played on the swings", "name", "Chloe"),
    ("Jack went to the shop with me", "name", "Jack"),
    ("Me and Will went to the shop", "name", "Will"),
]

NOTHING_PERSONAL = [
    "I went to the park with my mum",
    "We walk in the rain because there is no bus",
    "My house is cold and the heating is off",
    "I'm happy when we go swimming",
    "I'm scared of the dark",
    "I'm Polish and I speak two languages",
    "I'm 10 years old",
    "My friend said the bus was late again",
    "My teacher is nice",
    "I want to be a teacher when I grow up",
    "Me and my nan go to the shop on Saturday",
    "Me and my brother share a room",
    "Sometimes Dad works nights",
    "I miss my dad",
    "Christmas was sad because dad was at work",
    "Mum said no because we have no money",
    # places that are not anyone's address or school
    "We live near the main road and it is noisy",
    "we live on a busy road",
    "we live on the main road",
    "I walked 3 miles down the road to the shop",
    "There is a road near my house with lots of cars",
    "Our street has lots of rubbish",
    "The High Street shops are closing",
    "By the way the lift is broken",
    "The school is far away and we walk for an hour",
    "I go to primary school and I like maths",
    "At big school there are more stairs",
    "My brother is 14 and goes to high school",
    "We go to Forest School on Fridays",
    "There is no money for the bus to school",
    # names that are also words, months and days
    "Will you help me with my homework?",
    "I hope we get a garden",
    "Grace is when you say thank you for food",
    "I was born in May",
    "In June it was hot and we had ice cream",
    "From May to June we had no heating",
    "My birthday is on the 5th of May",
    # numbers that are not phone numbers or postcodes
    "The number 7 bus only comes every 2 hours",
    "It costs £2.50 and my mum has 3 kids",
    "My dad says the rent went up by 50 pounds",
    "We have 12 eggs and 2 loaves of bread",
    "The bus at 07 52 never comes",
    "Account 000 000 000 is on the letter",
    "Call 999 if there is a fire",
    "The year 2023 was hard and 2024 was better",
    "I saw it b4 5pm",
    "Food bank opens at 10",
]


@pytest.mark.parametrize(("sentence", "kind", "expected"), FLAGGED)
def test_flags_the_personal_detail(sentence, kind, expected):
    found = find_personal_details(sentence)
    assert [(d.kind, d.text) for d in found] == [(kind, expected)]


@pytest.mark.parametrize("sentence", NOTHING_PERSONAL)
def test_ordinary_sentences_are_not_flagged(sentence):
    assert find_personal_details(sentence) == []


def test_offsets_point_into_the_text_in_order():
    text = (
        "My name is Ruby Ahmed and I go to Kestrel Vale Academy. My friend Leo lives at "
        "7 Acacia Road, KV1 2AB. His mum's number is 07700 900456."
    )
    found = find_personal_details(text)
    assert [(d.kind, d.text) for d in found] == [
        ("name", "Ruby Ahmed"),
        ("school", "Kestrel Vale Academy"),
        ("name", "Leo"),
        ("address", "7 Acacia Road"),
        ("postcode", "KV1 2AB"),
        ("phone", "07700 900456"),
    ]
    assert all(text[d.start : d.end] == d.text for d in found)
    assert [d.start for d in found] == sorted(d.start for d in found)


def test_a_name_inside_a_school_or_street_is_reported_once_as_the_place():
    assert find_personal_details("I go to St Mary's Primary") == [Detail("school", 8, 25, "St Mary's Primary")]
    assert [d.kind for d in find_personal_details("we live at 2 Oliver Street")] == ["address"]


def test_a_name_takes_its_surname_but_not_the_next_place_word():
    assert [d.text for d in find_personal_details("Jack Smith and me")] == ["Jack Smith"]
    assert [(d.kind, d.text) for d in find_personal_details("Oliver Road is long")] == [("address", "Oliver Road")]


def test_every_kind_is_one_of_the_documented_kinds():
    text = "Mrs Khan, 12 Acacia Road, KV1 2AB, 07700 900123, a@b.org, Oakfield Primary"
    assert {d.kind for d in find_personal_details(text)} == set(KINDS)


def test_the_bundled_names_are_plain_lower_case_words():
    assert len(FIRST_NAMES) > 300
    assert all(name.isalpha() and name == name.lower() for name in FIRST_NAMES)


def test_empty_and_whitespace_text():
    assert find_personal_details("") == []
    assert find_personal_details("   \n ") == []
