from collections import defaultdict
from pathlib import Path

import pytest

from pmtype.cues import DISTINCTIONS, CueFinder, load_cue_lists

CASES = [
    ("focus", "technical", "You will own the public APIs and the data pipeline.", "APIs"),
    ("focus", "business", "You will own pricing and packaging for the suite.", "pricing"),
    ("collaborators", "technical", "You will work daily with backend engineers.", "engineers"),
    ("collaborators", "business", "You will work daily with the sales team.", "sales team"),
    ("research", "technical", "Track emerging technologies and judge technical feasibility.", "emerging technologies"),
    ("research", "business", "Study the competitive landscape before each launch.", "competitive landscape"),
    ("background", "technical", "A degree in computer science is required.", "degree in computer science"),
    ("background", "business", "An MBA is preferred.", "MBA"),
    ("planning", "technical", "Balance technical debt against new features.", "technical debt"),
    ("planning", "business", "Prioritise by revenue impact for the quarter.", "revenue impact"),
]


@pytest.fixture(scope="module")
def finder():
    return CueFinder()


@pytest.mark.parametrize("distinction,side,sentence,phrase", CASES)
def test_each_distinction_and_side_is_found_with_its_span(finder, distinction, side, sentence, phrase):
    cues = finder.find([sentence])[0]
    hits = [c for c in cues if c.distinction == distinction and c.side == side]
    assert hits, cues
    assert any(c.phrase == phrase for c in hits), hits
    for c in hits:
        assert sentence[c.start : c.end] == c.phrase


def test_every_distinction_has_both_sides():
    lists = load_cue_lists()
    assert set(lists) == set(DISTINCTIONS)
    for spec in lists.values():
        assert spec["technical"]["phrases"] and spec["business"]["phrases"]


def test_ing_words_are_not_read_as_their_stems(finder):
    # The lookup table maps "marketing" to "market"; "marketing" must stay a collaborator cue.
    cues = finder.find(["Partner with marketing on the tooling."])[0]
    assert [(c.phrase, c.distinction, c.side) for c in cues] == [
        ("marketing", "collaborators", "business"),
        ("tooling", "focus", "technical"),
    ]


def test_boilerplate_cues_are_ignored(finder):
    text = "About the role\nOwn pricing.\n\nBenefits\n- Stipend for cloud certifications and APIs"
    phrases = [c.phrase for c in finder.find([text])[0]]
    assert phrases == ["pricing"]


@pytest.mark.parametrize("heading", ["Why join us?", "Why you'll love working here", "**Why Work With Us?**"])
def test_cues_in_the_company_pitch_under_a_heading_written_as_a_question_or_sentence_are_ignored(finder, heading):
    text = f"About the role\nOwn pricing.\n\n{heading}\n- Build APIs with world-class engineers."
    assert [c.phrase for c in finder.find([text])[0]] == ["pricing"]
    assert "APIs" in [c.phrase for c in finder.find([text], drop_boilerplate=False)[0]]


def test_spans_are_relative_to_each_text_in_a_batch(finder):
    texts = ["Intro.\n\nWork with engineers.", "Work with finance.", ""]
    out = finder.find(texts)
    assert [c.phrase for c in out[0]] == ["engineers"]
    assert [c.phrase for c in out[1]] == ["finance"]
    assert out[2] == []
    assert texts[0][out[0][0].start : out[0][0].end] == "engineers"


def test_finder_pickles_without_its_spacy_pipeline(finder):
    import pickle

    finder.find(["Work with engineers."])
    clone = pickle.loads(pickle.dumps(finder))
    assert clone._nlp is None
    assert [c.phrase for c in clone.find(["Work with engineers."])[0]] == ["engineers"]


def test_no_phrase_belongs_to_two_cue_lists():
    seen = {}
    for distinction, spec in load_cue_lists().items():
        for side in ("technical", "business"):
            for phrase in spec[side]["phrases"]:
                assert phrase not in seen, f"{phrase!r} is in {seen[phrase]} and {distinction}:{side}"
                seen[phrase] = f"{distinction}:{side}"


@pytest.mark.parametrize("text,phrases", [
    # "degree … computer" is a background pattern; here the two words are in different sentences.
    ("A degree is welcome.\nComputer vision is our product.", ["Computer vision"]),
    # both sentences hold cues (one a pattern's), so both go to spaCy, side by side in one doc
    ("Prior engineers with a degree\nComputer APIs are our product.", ["Prior engineers", "APIs"]),
    ("Prior engineers with a degree. Computer APIs are our product.", ["Prior engineers", "APIs"]),
])
def test_no_cue_reaches_across_two_sentences(finder, text, phrases):
    cues = finder.find([text], drop_boilerplate=False)[0]
    assert [c.phrase for c in cues] == phrases
    for c in cues:
        assert "\n" not in c.phrase and text[c.start : c.end] == c.phrase


def test_cues_in_many_sentences_keep_their_offsets(finder):
    text = ("Intro line.\nYou will own the public APIs. You will own pricing.\n"
            "Work with engineers and the architects.")
    cues = finder.find([text], drop_boilerplate=False)[0]
    assert [c.phrase for c in cues] == ["APIs", "pricing", "engineers", "architects"]
    assert all(text[c.start : c.end] == c.phrase for c in cues)


def test_a_cue_file_pattern_on_another_lexical_attribute_still_matches(tmp_path):
    # The finder computes only the lexical attributes its patterns read: a pattern on
    # LIKE_NUM must still see numbers.
    import json

    lists = load_cue_lists()
    lists["focus"]["technical"]["patterns"] = [[{"LOWER": "owns"}, {"LIKE_NUM": True}, {"LOWER": "microservices"}]]
    path = tmp_path / "cues.json"
    path.write_text(json.dumps(lists), encoding="utf-8")
    text = "She owns 40 microservices today."
    [cues] = CueFinder(cue_path=str(path)).find([text])
    assert [(c.distinction, c.side, c.phrase) for c in cues] == [("focus", "technical", "owns 40 microservices")]
    assert text[cues[0].start:cues[0].end] == "owns 40 microservices"


@pytest.mark.parametrize("sentence,phrases", [
    # a cue word inside a phrase that means something else is no cue
    ("You need work authorization and will design authorization flows.", ["authorization"]),
    ("Great job security; you will own application security.", ["application security"]),
    ("Career growth for you; you will drive revenue growth.", ["revenue", "growth"]),
    ("A learning budget, and you will own the budget for the launch.", ["budget"]),
    ("Talent acquisition will call you; you will lead customer acquisition.", ["customer acquisition"]),
    ("Annual performance reviews; you will improve system performance.", ["system performance"]),
    # internal teams called partners are not the external partners of the business column
    ("Influence priorities across partner teams and cross-functional partners.", []),
    ("She partners with engineering on the roadmap.", ["engineering"]),
    ("Negotiate terms with channel partners and external partners.", ["channel partners", "external partners"]),
    # a company's growth in its self-description is not the role's focus on growth
    ("Join a high-growth company in a time of rapid growth; you will drive growth.", ["drive growth"]),
    ("We do not accept resumes from recruiting agencies; you will manage agencies.", ["agencies"]),
    # benefits, page furniture and other trades
    ("Domestic partnership benefits; you will own strategic partnerships.", ["strategic partnerships"]),
    ("Industries: Social Networking. You will own computer networking.", ["computer networking"]),
    ("Experience trading securities; you will own application security.", ["application security"]),
    # adoption among the family benefits is not a product's adoption
    ("Paid leave for birth or adoption; you will drive adoption of the app.", ["drive adoption"]),
    ("Cover for IVF, adoption and family planning costs.", []),
    # consulting with someone is talking to them, not a consulting background
    ("Consulting with store managers on rollout plans; consulting experience preferred.",
     ["store managers", "consulting experience"]),
    # a line of business or a product named after a cue word is not that cue
    ("You will serve commercial banking clients that sell embedded insurance.", []),
    ("Own embedded finance for commercial real estate; drive commercial success.", ["commercial success"]),
    ("You will own embedded firmware and the commercial strategy.", ["embedded", "firmware", "commercial strategy"]),
])
def test_a_cue_word_in_a_phrase_that_is_no_cue_is_left_out(finder, sentence, phrases):
    assert [c.phrase for c in finder.find([sentence])[0]] == phrases


def test_a_company_name_is_not_a_skill_asked_for(finder):
    cues = finder.find(["Google Cloud helps companies grow. Experience with GCP."])[0]
    assert [c.phrase for c in cues if c.distinction == "background"] == ["GCP"]


@pytest.mark.parametrize("sentence,phrases", [
    ("Experience with big data, science teams and marketing, business, development.", ["big data", "marketing"]),
    ("Lead the data science roadmap with the architects.", ["data science", "architects"]),
    ("Lead the pricing roadmap with the business development team.", ["pricing", "business development"]),
    ("A degree in computer science, engineering or a related field.", ["degree in computer science, engineering"]),
    # words parted so are no phrase, and leave the cue among them to count on its own
    ("Own our network, security and the APIs.", ["security", "APIs"]),
    ("Partner with product, marketing and sales.", ["marketing", "sales"]),
])
def test_punctuation_between_its_words_parts_a_phrase(finder, sentence, phrases):
    assert [c.phrase for c in finder.find([sentence])[0]] == phrases


@pytest.mark.parametrize("sentence,phrases", [
    # the company's voice, about the company: no evidence about the role
    ("We help brands grow revenue. Our platform serves millions of customers.", []),
    ("At Acme, we build APIs for banks. Join us in shaping the market.", []),
    ("✓ We build APIs for banks.\n➤ Our engineers ship SDKs.\n🚀 Our sales team is growing.", []),
    ("1) Our platform serves APIs to banks.\n2. We offer SDKs.\n12. Our sales team is growing.", []),
    # the company's voice about the role, and the role's own sentences, count
    ("We're looking for a product manager who owns pricing.", ["pricing"]),
    ("Our PMs work with the sales team. You will own the APIs.", ["sales team", "APIs"]),
    ("We need you to define pricing.", ["pricing"]),
    ("- We partner with marketing.\n- Own the pricing.", ["pricing"]),
    ("1) We partner with marketing.\n2) Own the pricing.", ["pricing"]),
])
def test_sentences_about_the_company_hold_no_cues(finder, sentence, phrases):
    assert [c.phrase for c in finder.find([sentence])[0]] == phrases


@pytest.mark.parametrize("sentence,phrases", [
    # "performance" alone is most often a business metric in real postings
    ("Track product performance, sales performance and key performance indicators.", []),
    ("Own latency and performance; improve query performance and performance at scale.",
     ["latency and performance", "query performance", "performance at scale"]),
    ("Improve API performance and network performance.", ["API performance", "network performance"]),
])
def test_performance_is_technical_only_where_it_is_a_systems_performance(finder, sentence, phrases):
    assert [c.phrase for c in finder.find([sentence])[0] if c.distinction == "focus"] == phrases


@pytest.mark.parametrize("sentence,cues", [
    # a field of study after a degree is the degree's, not a team to work with
    ("A degree in computer science or engineering.", [("background", "technical",
                                                       "degree in computer science or engineering")]),
    ("BS in Electrical Engineering or Mechanical Engineering.",
     [("background", "technical", "BS in Electrical Engineering or Mechanical Engineering")]),
    ("Bachelor's degree in Computer Science, Engineering, or a related field.",
     [("background", "technical", "degree in Computer Science, Engineering")]),
    # a degree in a list of fields from both columns asks for neither background (nor a team)
    ("A degree in engineering, economics or a related field.", []),
    ("A degree in business or computer science.", []),
    ("BS in Computer Science, Business or Marketing; hands-on SQL.", [("background", "technical", "SQL")]),
    # ... in its own clause only
    ("A degree in computer science or engineering; work with marketing.",
     [("background", "technical", "degree in computer science or engineering"),
      ("collaborators", "business", "marketing")]),
    ("A degree in computer science; an MBA is a plus.",
     [("background", "technical", "degree in computer science"), ("background", "business", "MBA")]),
    # the engineering team is still a team
    ("A degree in finance; you will work with engineering every day.",
     [("background", "business", "degree in finance"), ("collaborators", "technical", "engineering")]),
    # a field after the end of the degree's clause is not its field: here, the team to work with
    ("A bachelor's degree; partner with engineering on delivery.", [("collaborators", "technical", "engineering")]),
    ("Education: bachelor's degree | Team: engineering and QA",
     [("collaborators", "technical", "engineering"), ("collaborators", "technical", "QA")]),
    ("Bachelor's degree: computer science preferred.",
     [("background", "technical", "Bachelor's degree: computer science")]),
])
def test_degrees_and_their_fields(finder, sentence, cues):
    assert [(c.distinction, c.side, c.phrase) for c in finder.find([sentence])[0]] == cues


@pytest.mark.parametrize("sentence,cues", [
    # a field that names a team, where the sentence is about working with teams, is a team
    ("Work with engineering, design and data science to ship features.",
     [("collaborators", "technical", "engineering"), ("collaborators", "technical", "data science")]),
    ("You will work with data science.", [("collaborators", "technical", "data science")]),
    ("Collaborate with software engineering and QA on each launch.",
     [("collaborators", "technical", "software engineering"), ("collaborators", "technical", "QA")]),
    # where it asks for a background, it is one
    ("Experience with data science.", [("background", "technical", "data science")]),
    ("Data science is a plus.", [("background", "technical", "Data science")]),
    ("Work with engineers; a degree in data science.",
     [("collaborators", "technical", "engineers"), ("background", "technical", "data science")]),
])
def test_a_field_that_names_a_team_is_a_team_where_no_background_is_asked(finder, sentence, cues):
    assert [(c.distinction, c.side, c.phrase) for c in finder.find([sentence])[0]] == cues


@pytest.mark.parametrize("sentence,cues", [
    # people a business background names, where the sentence is about working with them, are people to work with
    ("Work with business analysts and finance.",
     [("collaborators", "business", "business analysts"), ("collaborators", "business", "finance")]),
    ("Partner with consultants and brand managers on each launch.",
     [("collaborators", "business", "consultants"), ("collaborators", "business", "brand managers")]),
    # where it asks for a background, it is one
    ("Experience as a business analyst or consultant.",
     [("background", "business", "business analyst"), ("background", "business", "consultant")]),
    ("Work with consultants; 5 years of experience as a business analyst.",
     [("collaborators", "business", "consultants"), ("background", "business", "business analyst")]),
])
def test_people_a_business_background_names_are_people_to_work_with_where_no_background_is_asked(
        finder, sentence, cues):
    assert [(c.distinction, c.side, c.phrase) for c in finder.find([sentence])[0]] == cues


@pytest.mark.parametrize("sentence,cues", [
    # a clause naming teams of both columns names the cross-functional teams every PM works with
    ("Work with engineering, design, marketing and sales on every launch.", []),
    ("Partner with data scientists and finance to ship the pricing page.", [("focus", "business", "pricing")]),
    # one column's teams still count, clause by clause
    ("Work closely with the engineers and architects on the API.",
     [("collaborators", "technical", "engineers"), ("collaborators", "technical", "architects"),
      ("focus", "technical", "API")]),
    ("Partner with marketing and sales; review designs with engineers.",
     [("collaborators", "business", "marketing"), ("collaborators", "business", "sales"),
      ("collaborators", "technical", "engineers")]),
])
def test_teams_of_both_columns_in_one_clause_count_for_neither(finder, sentence, cues):
    """LABELING.md: steering releases with cross-functional teams is a duty both kinds share."""
    assert [(c.distinction, c.side, c.phrase) for c in finder.find([sentence])[0]] == cues


def test_shared_teams_keeps_each_cues_span_in_a_longer_text(finder):
    text = "Own the APIs. Work with engineers and sales; and with architects. Own pricing."
    cues = finder.find([text])[0]
    assert [(c.distinction, c.phrase) for c in cues] == [
        ("focus", "APIs"), ("collaborators", "architects"), ("focus", "pricing")]
    assert all(text[c.start:c.end] == c.phrase for c in cues)


def test_background_rules_keep_each_cues_span_in_a_longer_text(finder):
    text = "Own the APIs. A degree in business or computer science. Work with data science | sales."
    cues = finder.find([text])[0]
    assert [(c.distinction, c.phrase) for c in cues] == [
        ("focus", "APIs"), ("collaborators", "data science"), ("collaborators", "sales")]
    assert all(text[c.start:c.end] == c.phrase for c in cues)


@pytest.mark.parametrize("sentence,phrases", [
    ("No MBA required.", []),
    ("An MBA is not required; SQL is.", ["SQL"]),
    ("You will build it without engineers and with marketing.", ["marketing"]),
    ("You will never write SQL.", []),
    ("You will work not only with engineers but with architects.", ["engineers", "architects"]),  # "not only" affirms
    ("There is no doubt that you will work closely with engineers.", ["engineers"]),  # too far from the "no"
    ("You don't need a computer science degree; you will work with sales.", ["sales"]),  # "n't" negates
    ("An MBA isn't required; SQL is.", ["SQL"]),
    ("You will work not just with engineers but with architects.", ["engineers", "architects"]),  # "not just" affirms
    ("Can't wait to meet engineers like you.", ["engineers"]),  # "can't" is too far
    # a colon or semicolon ends the negation's clause
    ("Don't worry: engineers will help you.", ["engineers"]),
    ("No travel; SQL is a must.", ["SQL"]),
    ("Languages including but not limited to: Python, SQL.", ["Python", "SQL"]),
    ("Skills including, but not limited to, SQL and Python.", ["SQL", "Python"]),  # "not limited to" affirms
    # "required" after a word ending in t is no "isn't required"
    ("Own the APIs and the product support required for launch.", ["APIs"]),
    ("Partner with finance on the budget expected for next year.", ["finance", "budget"]),
    # "not required" after a semicolon is another clause's; after a colon, the cue's value
    ("Work with engineers; an MBA is not required.", ["engineers"]),
    ("Python; relocation not required.", ["Python"]),
    ("MBA: not required.", []),
])
def test_a_negated_cue_is_no_cue(finder, sentence, phrases):
    assert [c.phrase for c in finder.find([sentence])[0]] == phrases


def test_every_not_cue_holds_a_cue_word():
    """A not-cue phrase is there to hide a cue inside it; one without a cue word does nothing."""
    from pmtype.cues import inflections, load_not_cues

    lists = load_cue_lists()
    sides = [spec[side] for spec in lists.values() for side in ("technical", "business")]
    words = {w for side in sides for p in side["phrases"] for w in p.split()}
    # and the words a one-token pattern matches ("partners")
    words |= {w for side in sides for pattern in side.get("patterns", []) if len(pattern) == 1
              for w in pattern[0].get("LOWER", {}).get("IN", [])}
    words |= {form for w in list(words) for form in inflections(w)}  # "securities" hides "security"
    for phrase in load_not_cues():
        assert words & set(phrase.replace("-", " ").split()), phrase


def test_a_role_said_not_to_be_is_no_cue(finder):
    assert [c.phrase for c in finder.find(["This is not a sales role; you will own APIs."])[0]] == ["APIs"]


def test_changing_the_cue_lists_a_caller_got_changes_nothing_for_the_next():
    lists = load_cue_lists()
    lists["focus"]["technical"]["phrases"].append("quantum widget")
    assert "quantum widget" not in load_cue_lists()["focus"]["technical"]["phrases"]


def test_a_cue_file_edited_in_the_same_process_is_read_afresh(tmp_path):
    # in a notebook: edit the cue file, fit again; the edit counts (the cache knows the file changed)
    import json

    from pmtype.features import PreparePostings

    text = "Product Manager\n\nYou will own the zorblax and the quuxfoo platform."
    lists = load_cue_lists()
    lists["focus"]["technical"]["phrases"] = ["zorblax"]
    path = tmp_path / "cues.json"
    path.write_text(json.dumps(lists), encoding="utf-8")
    first = PreparePostings(cue_path=str(path)).fit([text]).transform([text])[0]
    lists["focus"]["technical"]["phrases"] = ["zorblax", "quuxfoo"]
    lists["focus"]["title"] = "Focus, edited"
    path.write_text(json.dumps(lists), encoding="utf-8")
    second = PreparePostings(cue_path=str(path)).fit([text]).transform([text])[0]
    assert [c.phrase for c in first.cues if c.distinction == "focus"] == ["zorblax"]
    assert [c.phrase for c in second.cues if c.distinction == "focus"] == ["zorblax", "quuxfoo"]
    from pmtype.cues import distinction_titles

    assert distinction_titles(str(path))["focus"] == "Focus, edited"


class _Exhaustive(CueFinder):
    """A finder without its shortcuts: every sentence goes to spaCy, the Matcher is run at every
    word, and a one-word pattern is matched by the Matcher too."""

    def _build(self):
        super()._build()
        self._gates_of = defaultdict(lambda: ((),))  # no gate: every window is worth the Matcher's time
        self._anchors = _EVERY_WORD
        self._one_word = {}

    def _candidate(self, words):
        return True, True


class _EveryWord(frozenset):
    def __contains__(self, word):
        return True


_EVERY_WORD = _EveryWord()


def test_the_pre_filter_and_the_matcher_gates_lose_no_cue():
    # The shortcuts (the word-set pre-filter, the gates of the Matcher's windows, one-word patterns
    # matched without the Matcher) only save time: on written postings of both labels and others,
    # they find every cue the exhaustive search finds, with the same spans.
    import pandas as pd

    from pmtype.features import posting_text
    from pmtype.text import normalise

    corpus = pd.read_csv(Path(__file__).parents[1] / "data" / "seed" / "postings.csv").sample(150, random_state=0)
    texts = [normalise(posting_text(d, t)) for d, t in zip(corpus.description, corpus.title)]
    texts += [
        "Partners: work with partners and partnerships teams; alliances too.",
        "Degree in computer science. Experience as a software engineer; former data engineer.",
        "A bachelor's degree, ideally in business administration or economics, or an MBA.",
    ]
    fast, full = CueFinder().find(texts, drop_boilerplate=False), _Exhaustive().find(texts, drop_boilerplate=False)
    assert fast == full
    found = sum(map(len, fast))
    patterns = [c for cues in fast[-3:] for c in cues if c.distinction in ("collaborators", "background")]
    assert found > 1000 and len(patterns) >= 6, (found, patterns)


@pytest.mark.parametrize("sentence,cues", [
    # degrees and fields joined by a slash ("BS/MS", "Business/Marketing") are still a degree in
    # a list of fields from both columns
    ("BS/MS in Computer Science, Business or Marketing.", []),
    ("BA/BS in Computer Science, Business or Marketing; hands-on SQL.", [("background", "technical", "SQL")]),
    ("A degree in Computer Science, Business/Marketing.", []),
])
def test_a_degree_list_joined_by_slashes_is_read_like_one_joined_by_commas(finder, sentence, cues):
    assert [(c.distinction, c.side, c.phrase) for c in finder.find([sentence])[0]] == cues


@pytest.mark.parametrize("sentence,cues", [
    # "familiar with", "fluent with", "skilled with" ask for a background as "familiarity with" does
    ("Familiar with data science.", [("background", "technical", "data science")]),
    ("Familiar with software engineering and SQL.",
     [("background", "technical", "software engineering"), ("background", "technical", "SQL")]),
    ("Fluent with data science.", [("background", "technical", "data science")]),
    ("Skilled with data science.", [("background", "technical", "data science")]),
    # working with the team still is one
    ("Work with data science.", [("collaborators", "technical", "data science")]),
])
def test_a_field_asked_as_familiarity_is_a_background_not_a_team(finder, sentence, cues):
    assert [(c.distinction, c.side, c.phrase) for c in finder.find([sentence])[0]] == cues


@pytest.mark.parametrize("sentence,cues", [
    # "MS Excel", "Scrum Master", "a major plus" name no degree: the fields beside them still count
    ("Proficient in MS Excel, data science and marketing analytics.",
     [("background", "business", "MS Excel"), ("background", "technical", "data science"),
      ("collaborators", "business", "marketing")]),
    ("MS Office, SQL, data science and marketing skills.",
     [("background", "technical", "SQL"), ("background", "technical", "data science"),
      ("collaborators", "business", "marketing")]),
    ("Major plus: data science and marketing experience.",
     [("background", "technical", "data science"), ("background", "business", "marketing experience")]),
    # a degree named so still is one
    ("MS in data science or marketing.", []),
    ("Major in data science or marketing.", []),
])
def test_words_that_name_no_degree_do_not_make_a_list_of_fields_a_degree(finder, sentence, cues):
    assert [(c.distinction, c.side, c.phrase) for c in finder.find([sentence])[0]] == cues


@pytest.mark.parametrize("sentence,cues", [
    # a business word elsewhere in the clause, not in the degree's list of fields, makes no list
    # from both columns: the degree counts, and so does the team
    ("BS in Computer Science with experience in finance.",
     [("background", "technical", "BS in Computer Science"), ("collaborators", "business", "finance")]),
    ("A degree in computer science and a track record of driving business outcomes.",
     [("background", "technical", "degree in computer science"), ("focus", "business", "business outcomes")]),
    ("A degree in engineering and experience working with marketing teams.",
     [("background", "technical", "degree in engineering"), ("collaborators", "business", "marketing")]),
    # in the list, it does; a field cue outside the list still counts
    ("A degree in computer science, mathematics, statistics or economics.", []),
    ("Degree in CS or Business, with a STEM background.", [("background", "technical", "STEM background")]),
])
def test_only_a_business_field_in_the_degrees_list_makes_it_a_list_from_both_columns(finder, sentence, cues):
    assert [(c.distinction, c.side, c.phrase) for c in finder.find([sentence])[0]] == cues
