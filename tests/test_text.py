import pandas as pd
import pytest

from pmtype import text


def test_normalise_strips_markup_and_entities():
    out = text.normalise("<p>Own the <b>API</b> &amp; SDK</p><ul><li>Work with engineers</li></ul>")
    assert "<" not in out and "&amp;" not in out
    assert "API" in out and "& SDK" in out and "Work with engineers" in out


def test_a_posting_s_first_line_is_its_words_folded_and_cut():
    """How messages and tables name a posting: its first line as read, not its markup."""
    assert text.first_line("<h1>Product \t Manager</h1><p>Own the APIs.</p>") == "Product Manager"
    assert text.first_line("  \n Senior   PM, Payments\nBody") == "Senior PM, Payments"
    assert text.first_line("x" * 100) == "x" * 80
    assert text.first_line("x" * 100, 60) == "x" * 60
    assert text.first_line("<br/>") == ""

def test_markup_of_links_italics_and_tables_is_removed_too():
    """A posting marked up with only links, italics, underlining or a table is markup all the
    same: its tags (and what their attributes say) are no text of the posting."""
    assert (text.normalise('Work with <a href="https://example.com/data-science">our engineers</a> on '
                           '<i>APIs</i> and <u>SQL</u>') == "Work with our engineers on APIs and SQL")
    assert (text.normalise("<table><tr><td>Skills</td><td>SQL</td></tr><tr><td>Degree</td><td>MBA</td></tr>"
                           "</table>") == "Skills SQL \n Degree MBA")
    assert text.normalise('<img src="logo.png" alt="data science"><hr/>') == ""


@pytest.mark.parametrize("plain", ["Salary < a lot, <5 years, x<i then", "Experience: <3 years > 1"])
def test_angle_brackets_in_plain_text_are_no_markup(plain):
    assert text.normalise(plain) == plain


def test_invisible_format_characters_inside_a_word_leave_it_one_word():
    """A soft hyphen (a web page's &shy;), a word joiner, a byte-order mark or a direction mark shows
    nothing: the word it sits in is read whole."""
    assert (text.normalise("\ufeffOwn the road&shy;map with engi\u00adneers, S\u2060QL and \u200fAPIs\u200e")
            == "Own the roadmap with engineers, SQL and APIs")


def test_ligatures_of_text_from_a_pdf_are_written_out():
    assert (text.normalise("Work with \ufb01nance on the work\ufb02ow, e\ufb00ort and tra\ufb03c")
            == "Work with finance on the workflow, effort and traffic")


def test_normalise_folds_windows_line_endings_and_spaces():
    assert text.normalise("a\r\nb\t\t c\r\n\r\n\r\n\r\nd") == "a\nb c\n\nd"


@pytest.mark.parametrize("line_break", ["\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\x1e"], ids=repr)
def test_every_kind_of_line_break_is_a_line_break(line_break):
    """Word's manual line break (a vertical tab), a PDF's page break, NEL and Unicode's separators
    end a line as \\n does: else a posting's lines ran into one, its headings unseen."""
    posting = "Product Manager{0}{0}About us{0}We build APIs.{0}{0}Responsibilities{0}Work with engineers{0}{0}Benefits{0}Dental"
    out = text.normalise(posting.format(line_break))
    assert out == posting.format("\n")
    assert [s.kind for s in text.sections(out)] == ["intro", "company", "role", "benefits"]


def test_sections_are_found_by_heading():
    t = text.normalise("We make rockets.\n\nAbout the role:\nOwn the API.\n\nBENEFITS\n- Dental\n")
    kinds = [s.kind for s in text.sections(t)]
    assert kinds == ["intro", "role", "benefits"]


@pytest.mark.parametrize("heading,kind", [
    ("About this role:", "role"), ("ABOUT THE OPPORTUNITY", "role"), ("**Who we are looking for**", "requirements"),
    ("What We're Looking For", "requirements"), ("About Acme Robotics", "company"), ("Who we are", "company"),
])
def test_a_heading_about_the_role_opens_the_role_not_the_company(heading, kind):
    t = text.normalise(f"Intro line.\n\n{heading}\nOwn the API with the engineers.")
    assert [s.kind for s in text.sections(t)] == ["intro", kind]


@pytest.mark.parametrize("heading", ["Why join us?", "Why you'll love working here", "**Why Work With Us?**",
                                     "WHY JOIN US?"])
def test_a_heading_written_as_a_question_or_a_sentence_opens_the_company_pitch(heading):
    t = text.normalise(f"About the role\nOwn the API with the engineers.\n\n{heading}\nShip APIs with experts.")
    assert [s.kind for s in text.sections(t)] == ["role", "benefits"]
    assert [s.text for s in text.sentences(t)] == ["About the role", "Own the API with the engineers."]


def test_text_that_lost_its_line_breaks_is_still_split_into_sentences():
    t = "Track the product metrics.Key duties: own the API with engineers!Node.js and U.S.Bank stay whole."
    found = [s.text for s in text.sentences(t, drop_boilerplate=False)]
    assert found == ["Track the product metrics.", "Key duties: own the API with engineers!",
                     "Node.js and U.S.Bank stay whole."]
    assert all(t[s.start:s.start + len(s.text)] == s.text for s in text.sentences(t, drop_boilerplate=False))
    # so no word is glued across the join
    assert "metrics.key" not in " ".join(map(" ".join, text.sentence_words(t, text.sentences(t))))


def test_boilerplate_is_left_out_of_sentences():
    t = text.normalise(
        "Responsibilities\nOwn the API with engineers.\n\nWhat we offer\n- Dental and vision\n"
        "- Generous parental leave\n\nWe are an equal opportunity employer without regard to race."
    )
    kept = [s.text for s in text.sentences(t)]
    assert "Own the API with engineers." in kept
    assert not any("Dental" in s or "equal opportunity" in s for s in kept)
    everything = [s.text for s in text.sentences(t, drop_boilerplate=False)]
    assert any("Dental" in s for s in everything)


def test_sentence_offsets_point_into_the_text():
    t = text.normalise("Intro line.\n\nAbout the role\nFirst sentence here. Second one here.\n  - An indented bullet.")
    found = text.sentences(t)
    assert [s.text for s in found] == ["Intro line.", "About the role", "First sentence here.", "Second one here.",
                                       "- An indented bullet."]
    for s in found:
        assert t[s.start : s.start + len(s.text)] == s.text


def test_scripts_and_styles_are_dropped_with_their_contents():
    out = text.normalise("<html><style>li { color: red }</style><script>var x = 1;</script><p>Own the API</p></html>")
    assert out == "Own the API"


# --- language -------------------------------------------------------------------------
# Postings written for these tests: the same payments role in several languages.

IN_OTHER_LANGUAGES = {
    "German": "Produktmanager (m/w/d) Zahlungsplattform. Als Produktmanager verantwortest du unsere "
              "Zahlungsplattform und arbeitest eng mit unseren Entwicklern, Architekten und dem QA-Team "
              "zusammen. Du schreibst technische Spezifikationen für unsere APIs und planst die Roadmap.",
    "French": "Chef de produit plateforme de paiement. Vous serez responsable de notre plateforme et vous "
              "travaillerez avec les développeurs et les architectes pour définir la feuille de route et "
              "rédiger les spécifications techniques.",
    "Spanish": "Gerente de producto para nuestra plataforma de pagos. Serás responsable de la hoja de ruta y "
               "trabajarás con los equipos de ventas, marketing y atención al cliente para definir la "
               "estrategia de precios.",
    "Polish": "Jako menedżer produktu będziesz odpowiedzialny za naszą platformę płatności. Będziesz ściśle "
              "współpracować z programistami i architektami oraz pisać specyfikacje techniczne.",
    "Russian": "Менеджер продукта платежной платформы. Вы будете отвечать за нашу платформу и работать "
               "вместе с разработчиками и архитекторами.",
    "Chinese": "支付平台产品经理：负责我们的支付平台，与开发工程师和架构师紧密合作，编写技术规格说明。",
}

IN_ENGLISH = {
    "a posting": "Product Manager, Payments Platform\n\nYou will own the payment APIs and the webhooks our "
                 "partners rely on, and work with the engineers and the architect who build them.",
    "a title": "Produktmanager, Zürich",
    "a list of skills": "Skills: SQL, Python, AWS, Kubernetes, Terraform, Kafka, Spark, Airflow, dbt, Looker, "
                        "Tableau, Jira, Confluence, Figma, REST, GraphQL, gRPC, OAuth, Docker, Git, Snowflake",
    "a bilingual posting": "Product Manager, Payments. You will own our payments platform and work with the "
                           "engineers who build it, and with the sales team that sells it. " * 2
                           + "Chef de produit plateforme de paiement. Vous serez responsable de notre plateforme.",
    "English with accented names": "Product Manager in Zürich or São Paulo: you will own the roadmap of our "
                                   "café ordering app with the engineers, and the pricing with the Société team.",
}


@pytest.mark.parametrize("language", sorted(IN_OTHER_LANGUAGES))
def test_postings_in_other_languages_do_not_read_as_english(language):
    assert not text.reads_as_english(IN_OTHER_LANGUAGES[language])


@pytest.mark.parametrize("what", sorted(IN_ENGLISH))
def test_english_short_texts_and_keyword_lists_read_as_english(what):
    assert text.reads_as_english(IN_ENGLISH[what])


def test_the_script_is_judged_as_written():
    """Lower-casing moves some Latin capitals out of the Latin blocks (Ɠ → ɠ): not another script."""
    assert text.reads_as_english("ƓƓƓƓƜƜƜƜ ƓƓƓƓƜƜƜƜ ƓƓƓƓƜƜƜƜ")
    assert not text.reads_as_english("Менеджер продукта платежной платформы")


def test_a_few_words_of_another_language_are_too_few_to_tell():
    words = ("Du schreibst technische Spezifikationen für unsere APIs und planst die Roadmap gemeinsam "
             "mit den Entwicklern und dem Team").split()
    assert len(words) == text.LANGUAGE_MIN_WORDS + 6
    assert text.reads_as_english(" ".join(words[: text.LANGUAGE_MIN_WORDS - 1]))
    assert not text.reads_as_english(" ".join(words[: text.LANGUAGE_MIN_WORDS]))


def test_real_postings_read_as_english(shared_data):
    """None of the real postings (all English, PM or not) is called another language."""
    for name in ("real_dev.csv", "real_not_pm_dev.csv"):
        frame = pd.read_csv(shared_data / name)
        called = [i for i, (t, d) in enumerate(zip(frame.title, frame.description))
                  if not text.reads_as_english(text.normalise(f"{t}\n\n{d}"))]
        assert called == [], name


def test_a_sentence_said_again_word_for_word_counts_once():
    once = "About the role\nYou will own the APIs with the engineers. You will write SQL.\nThanks."
    twice = text.sentences(once + "\n\n" + once, drop_boilerplate=False)
    assert [s.text for s in twice] == [s.text for s in text.sentences(once, drop_boilerplate=False)]
    assert twice[1].start == once.index("You will own")  # the first time is the one kept
    near = once.replace("You will write SQL.", "You will write SQL daily.")
    assert len(text.sentences(once + "\n" + near, drop_boilerplate=False)) == 5  # not the same: kept


@pytest.mark.parametrize("sentence,expected", [
    ("We build the leading payments platform.", True),
    ("We’re a team of 40 across three continents.", True),
    ("Our mission is to make travel easy.", True),
    ("At Acme Corp, we ship every day.", True),
    ("Join us in changing how teams work.", True),
    ("The company is growing fast.", True),
    ("• We value curiosity.", True),
    # after any bullet, dash, quote or emoji, as after "•"
    ("✓ Our engineers ship every day.", True),
    ("● We value curiosity.", True),
    ("🚀 We build the leading payments platform.", True),
    ("“We move fast.”", True),
    # after a list's number, as after a bullet
    ("1) Our platform serves millions of customers.", True),
    ("2. We offer a platform for banks.", True),
    ("(3) We value curiosity.", True),
    ("1) Own the roadmap with engineers.", False),
    ("2. We are looking for a product manager.", False),
    ("✓ Own the roadmap with engineers.", False),
    ("We are looking for a product manager.", False),
    ("We expect you to own the roadmap.", False),
    ("Our ideal candidate has shipped APIs.", False),
    ("Own the roadmap with engineers.", False),
    ("Weekly reviews with the team.", False),  # "We" only as part of a word
    ("The role owns pricing.", False),
])
def test_a_sentence_about_the_company_is_told_from_one_about_the_role(sentence, expected):
    assert text.about_the_company(sentence) is expected


# A job board's criteria block, as it ends a posting: on one line (its line breaks lost) or one label
# and value a line.
_CRITERIA_ONE_LINE = ("Seniority level Associate Employment type Contract Job function Marketing and Sales "
                      "Industries Financial Services and Software Development")
_CRITERIA_LINES = ("Seniority level\nAssociate\nEmployment type\nContract\nJob function\nMarketing and Sales\n"
                   "Industries\nSoftware Development")


@pytest.mark.parametrize("block", [_CRITERIA_ONE_LINE, _CRITERIA_LINES, "Show more Show less " + _CRITERIA_ONE_LINE])
def test_a_job_boards_criteria_block_is_not_the_roles_text(block):
    from pmtype.cues import CueFinder

    body = "Own the APIs with the platform engineers.\nShip the quarterly roadmap."
    posting = text.normalise(f"{body}\n{block}")
    assert posting[text.job_criteria_start(posting):] == block
    for drop in (False, True):
        assert [s.text for s in text.sentences(posting, drop_boilerplate=drop)] == [
            "Own the APIs with the platform engineers.", "Ship the quarterly roadmap."]
    # its "Marketing and Sales" and "Software Development" are no cues
    assert [c.phrase for c in CueFinder().find([posting], drop_boilerplate=False)[0]] == ["APIs", "engineers"]


@pytest.mark.parametrize("posting", [
    # the labels in the role's own words, or too few of them, or not at the end
    "Serve customers across industries. Your employment type is full-time. Job function: product.",
    "Seniority level: senior. Employment type: full-time. Own the APIs.",
    "Seniority level Associate Employment type Contract Job function Marketing Industries Retail\n"
    + " ".join(f"Own API number {n} with the engineers." for n in range(40)),
])
def test_text_that_only_names_the_criteria_labels_keeps_all_its_sentences(posting):
    assert text.job_criteria_start(posting) == len(posting)
    kept = [s.text for s in text.sentences(posting, drop_boilerplate=False)]
    assert " ".join(kept) == " ".join(posting.split("\n"))


@pytest.mark.parametrize("posting", [
    # a short posting that opens with the labels (a job board's header, not its closing block)
    "Seniority level\nMid-Senior level\nEmployment type\nFull-time\nJob function\nProduct Management\n"
    "Industries\nSoftware Development\nOwn the APIs with the platform engineers.\nShip the quarterly roadmap.",
    "Product Manager\nEmployment type: Full-time\nJob function: Product\nIndustries: Software Development\n"
    "Own the APIs with the platform engineers. Ship the quarterly roadmap.",
])
def test_criteria_labels_followed_by_the_roles_text_do_not_cut_it(posting):
    assert text.job_criteria_start(posting) == len(posting)
    kept = " ".join(s.text for s in text.sentences(posting, drop_boilerplate=False))
    assert "Own the APIs with the platform engineers." in kept and "Ship the quarterly roadmap." in kept


@pytest.mark.parametrize("glued, read", [
    ("Own the roadmap with the engineering teamPrioritise the backlog",
     "Own the roadmap with the engineering team\nPrioritise the backlog"),
    ("Rank the work by KPIsWork with sales", "Rank the work by KPIs\nWork with sales"),
    ("Requirements:5+ years in productStrong writing", "Requirements:5+ years in product\nStrong writing"),
])
def test_words_a_job_board_ran_together_are_parted_again(glued, read):
    """A pasted posting that lost its line breaks runs a bullet's last word into the next one's first:
    the two are read as two lines again."""
    assert text.normalise(glued) == read


@pytest.mark.parametrize("name", ["YouTube", "PowerPoint", "DevOps", "JavaScript", "McKinsey", "iPhone", "eBay",
                                  "tvOS", "SaaSProducts", "macOS", "x2Go", "snake_caseName"])
def test_names_written_with_a_capital_inside_are_kept_whole(name):
    assert text.normalise(f"Work in {name} daily") == f"Work in {name} daily"


def test_cues_in_words_a_job_board_ran_together_are_found():
    from pmtype.features import PreparePostings

    pasted = ("Product Manager\n\nWhat you will do:Own the roadmap with the engineering teamPrioritise the backlog "
              "by KPIsWork with the sales team on launches")
    found = PreparePostings().fit(None).transform([pasted])[0].cues
    assert [(c.distinction, c.side, c.phrase) for c in found] == [
        ("collaborators", "technical", "engineering team"), ("planning", "business", "KPIs"),
        ("collaborators", "business", "sales team")]


@pytest.mark.parametrize("line, expected", [
    ("A B.S. in computer science or engineering.", ["A B.S. in computer science or engineering."]),
    ("Work on pricing, e.g. in payments. Own the APIs.", ["Work on pricing, e.g. in payments.", "Own the APIs."]),
    ("Own the APIs. Work with sales! Ship? Yes.", ["Own the APIs.", "Work with sales!", "Ship?", "Yes."]),
    ("Own the APIs.\tWork with sales.", ["Own the APIs.", "Work with sales."]),
])
def test_a_full_stop_before_a_lower_case_word_ends_no_sentence(line, expected):
    """"B.S." or "e.g." is followed by the rest of its sentence, which goes on in lower case: the
    degree's words stay in the sentence that names it ("a B.S. in computer science")."""
    assert [s.text for s in text.sentences(line, drop_boilerplate=False)] == expected


def test_a_degree_abbreviated_with_full_stops_is_read_as_one_background():
    from pmtype.features import PreparePostings

    posting = "Product Manager\n\nRequirements\n- A B.S. in computer science or engineering."
    found = PreparePostings().fit(None).transform([posting])[0].cues
    assert [(c.distinction, c.side, c.phrase) for c in found] == [
        ("background", "technical", "B.S. in computer science or engineering")]


@pytest.mark.parametrize("written, read", [
    ("BA/BS in Computer Science", "BA / BS in Computer Science"),
    ("B.S./M.S. or PhD/MS", "B.S. / M.S. or PhD / MS"),
    ("MS/MBA preferred", "MS / MBA preferred"),
    ("BSc/MSc in physics", "BSc / MSc in physics"),
    # no degrees: kept
    ("CI/CD, A/B tests, IBM/MS Office, ABA/BS, TCP/IP", "CI/CD, A/B tests, IBM/MS Office, ABA/BS, TCP/IP"),
])
def test_two_degrees_joined_by_a_slash_are_parted(written, read):
    assert text.normalise(written) == read


def test_a_degree_joined_to_another_by_a_slash_is_read():
    from pmtype.features import PreparePostings

    posting = ("Product Manager\n\nRequirements\n- BA/BS in Computer Science, Engineering, or similar experience.\n"
               "- MS/MBA preferred.")
    found = PreparePostings().fit(None).transform([posting])[0].cues
    assert [(c.distinction, c.side, c.phrase) for c in found] == [
        ("background", "technical", "BA / BS in Computer Science, Engineering"), ("background", "business", "MBA")]
