from pmtype import text


def test_normalise_strips_markup_and_entities():
    out = text.normalise("<p>Own the <b>API</b> &amp; SDK</p><ul><li>Work with engineers</li></ul>")
    assert "<" not in out and "&amp;" not in out
    assert "API" in out and "& SDK" in out and "Work with engineers" in out


def test_normalise_folds_windows_line_endings_and_spaces():
    assert text.normalise("a\r\nb\t\t c\r\n\r\n\r\n\r\nd") == "a\nb c\n\nd"


def test_sections_are_found_by_heading():
    t = text.normalise("We make rockets.\n\nAbout the role:\nOwn the API.\n\nBENEFITS\n- Dental\n")
    kinds = [s.kind for s in text.sections(t)]
    assert kinds == ["intro", "role", "benefits"]


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
