import itertools

from faq.korean import Morpheme, lexical_terms, merge_spans, surface_tokens


def test_overlapping_morphemes_share_one_span() -> None:
    spans = surface_tokens("했어요")
    assert [(s.text, s.start, s.end) for s in spans] == [("했", 0, 1), ("어요", 1, 3)]
    assert spans[0].lemma == "하+었"


def test_zero_length_copula_joins_the_previous_span() -> None:
    spans = surface_tokens("얼마예요?")
    assert [(s.text, s.start, s.end) for s in spans] == [("얼마", 0, 2), ("예요", 2, 4), ("?", 4, 5)]
    assert "이" in spans[0].lemma


def test_spans_index_the_original_text_and_never_overlap() -> None:
    text = "이사 왔는데  주소 옮기는 건 어디서 하죠?"
    spans = surface_tokens(text)
    for span in spans:
        assert text[span.start : span.end] == span.text
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


def test_leading_zero_length_morpheme_attaches_to_the_next_span() -> None:
    spans = merge_spans("가나", [Morpheme("x", "VCP", 0, 0), Morpheme("가나", "NNG", 0, 2)])
    assert [(s.text, [m.form for m in s.morphemes]) for s in spans] == [("가나", ["x", "가나"])]


def test_user_words_and_synonyms_reach_bm25_terms() -> None:
    assert "주민등록등본" in lexical_terms("등본떼려면 뭐 필요함")
    assert "주민등록증" in lexical_terms("주민증 잃어버렸어요")
    assert "인감증명서" in lexical_terms("인감증명서 발급")
    assert not {"을", "는", "어요"} & set(lexical_terms("여권을 발급받으려는데 어요"))
