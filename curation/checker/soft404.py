"""Soft-404 text rules: does a page's title, first heading or text say "not found", and how surely?

A page's words give one of three answers. Strong: the title or the heading is an error message
and nothing else ("Page not found | Example", "404", "页面不存在"), or a short page's own text
says so. Weak: a not-found phrase or a 404 is there, but as part of something else ("Tag: 404",
"Fixing command not found", a listed post's title). None: nothing of the kind. The classifier
turns strong into a verdict and weak into an ambiguous one that the random-sibling probe settles.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .htmlscan import PageSummary


def _word_set(*lines: str) -> frozenset[str]:
    return frozenset(word for line in lines for word in line.split())


# Phrases that say "not found" in languages written with spaces, matched on folded text.
NOT_FOUND_PHRASES = (
    "not found", "can't be found", "cannot be found", "could not be found", "couldn't be found",
    "couldn't find", "could not find", "can't find", "cannot find", "unable to find",
    "doesn't exist", "does not exist", "no longer exists", "no longer available",
    "wasn't found", "no such page", "four-oh-four", "four oh four",
    "introuvable", "pas trouvé", "non trouvée", "non trouvé", "n'existe pas", "n'existe plus",
    "nicht gefunden", "existiert nicht", "gibt es nicht", "nicht mehr verfügbar",
    "no encontrada", "no encontrado", "no encontramos", "no se encontró", "no se ha encontrado",
    "no se encuentra", "no existe",
    "não encontrada", "não encontrado", "nao encontrada", "não foi encontrada", "não existe",
    "nao existe", "non trovata", "non trovato", "non esiste", "impossibile trovare",
    "niet gevonden", "bestaat niet", "nie znaleziono", "nie została znaleziona", "nie istnieje",
    "nie odnaleziono", "nie można znaleźć", "hittades inte", "kunde inte hittas", "finns inte",
    "ikke fundet", "ble ikke funnet", "fant ikke", "tak ditemukan", "ni bila najdena",
    "није пронађена", "не е намерена", "no trobada", "hindi mahanap",
    "findes ikke", "finnes ikke", "ikke funnet", "ei löytynyt", "nenalezena", "nenalezeno",
    "nebyla nalezena", "neexistuje", "nenájdená", "nem található", "nu a fost găsită",
    "bulunamadı", "mevcut değil", "не найдена", "не найден", "не существует", "не знайдено",
    "не існує", "δεν βρέθηκε", "không tìm thấy", "không tồn tại", "tidak ditemukan",
    "tidak dijumpai", "غير موجودة", "غير موجود", "لم يتم العثور", "לא נמצא",
    "یافت نشد", "پیدا نشد", "नहीं मिला", "ไม่พบ",
)  # fmt: skip
# Scripts written without spaces: a thing (page, article) and a failure (missing, not found)
# close together, in either order.
_CJK_THING = (
    r"(?:页面|頁面|网页|網頁|页|頁|文章|内容|內容|资源|資源|链接|鏈接|連結|网址|網址|"
    r"ページ|記事|ファイル|페이지|문서|게시물|글)"
)
_CJK_FAILURE = (
    r"(?:不存在|没有找到|沒有找到|没找到|沒找到|未找到|找不到|走丢|走丟|丢失|丟失|无法找到|無法找到|"
    r"不见了|不見了|已删除|已刪除|已被删除|已被刪除|見つかりません|見つかりませんでした|見つからない|存在しません|"
    r"見当たりません|찾을 수 없|존재하지 않|찾지 못)"
)
_CJK_PHRASE = re.compile(
    rf"{_CJK_THING}[^。，！？!?,.\n]{{0,8}}?{_CJK_FAILURE}|"
    rf"(?:找不到|未找到|无法找到|無法找到|没有找到|沒有找到)[^。，！？!?,.\n]{{0,4}}?{_CJK_THING}|"
    r"見つかりません|这里什么都没有|這裡什麼都沒有"
)
# What surrounds an error message in a CJK title or heading ("抱歉，您访问的页面不存在").
_CJK_FILLER = re.compile(
    r"抱歉|对不起|對不起|您|你|访问|訪問|要找|请求|請求|所|的|该|該|此|这个|這個|啊|哦|哎呀|糟糕|了|"
    r"错误|錯誤|お探しの|申し訳ありません|ございません|エラー|この|指定された|요청하신|죄송합니다|"
    r"오류|에러|습니다|니다|음|が|は|を|でした|ました|。|、|，|！|？|…|～|：|\W|_"
)
# Words that surround an error message ("Oops! That page can't be found.", "Fehler 404"). A
# segment of only these, a phrase and 404 is an error message; any other word makes it about
# something ("HTTP 404 explained"). Per language, as the sites we studied write them.
ERROR_FILLER = _word_set(
    "the a an this that that's these page pages site web you your you're we we're our us it it's",
    "asked want wanted",
    "its here there there's were was is are be been has have looking look for requested request",
    "sorry oops whoops ooops uh oh hmm ah error status code file document url resource",
    "looks like seems not no nothing to of on at what just went wrong something link broken lost",
    "missing or and directory folder try search again please go back home homepage may might",
    "moved removed deleted anymore but trying view visit reach find found exist exists",
    "erreur oups cette la le les désolé desole nous cherchez vous demandée demandee recherchée",
    "est été a ou déplacée pas n'avons",
    "fehler hoppla ups die der das diese leider sie wurde seite angeforderte gesuchte konnte",
    "werden ist wir es kann",
    "vaya lo sentimos página pagina el esta que buscas busca buscando solicitada ha sido siento",
    "se error o movida esa",
    "erro ops desculpe você voce procura procurando foi essa removida",
    "errore spiacenti questa che cerchi stai cercando richiesta oops è stata spostata",
    "fout oeps deze de het je zoekt pagina verplaatst die of",
    "strona strony stronę ta tej szukana błąd której szukasz",
    "η σελίδα σφάλμα δυστυχώς ωχ הדף העמוד אופס שגיאה מצטערים पृष्ठ पेज त्रुटि क्षमा करें",
    "страница страницы такой такая запрашиваемая ошибка извините сторінку сторінка помилка",
    "вибачте яку ви шукаєте",
    "sidan fel du letar efter tyvärr hoppsan siden längre",
    "stránka chyba požadovaná hledáte nebo byla přesunuta",
    "trang lỗi bạn đang tìm xin hoặc đã bị xóa",
    "halaman kesalahan yang anda cari maaf",
    "sayfa hata aradığınız üzgünüz",
    "blev ble sivua az oldal stran pàgina صفحه صفحه‌ای หน้า ขออภัย דף عذراً",
    "الصفحة خطأ عذرا المطلوبة التي تبحث عنها على أو تم نقلها",
)
# A lone 404 next to one of these is a label's value ("Tag: 404", "404 - Tags - Blog").
LABEL_WORDS = _word_set(
    "tag tags tagged category categories label labels topic topics archive archives series",
    "keyword keywords étiquette étiquettes catégorie schlagwort schlagworte kategorie etiqueta",
    "etiquetas categoría categoria metka метка метки тег теги мітка etiket kategori etikett",
    "štítek thẻ وسم تصنيف 标签 標籤 分类 分類 タグ カテゴリー 태그 카테고리 room issue",
)
# A site's name after the separator: "Page not found | Example Docs".
SITE_NAME_MAX_WORDS = 4
# A page whose visible text is this short is mostly its error message, if it has one; one a bit
# longer (a not-found page with a list of suggestions) counts when the message comes first.
SHORT_BODY_CHARS = 600
MEDIUM_BODY_CHARS = 2000
MEDIUM_BODY_LEAD = 3  # how many of the page's own statements may come before the message
_SEPARATOR = r"\s+::\s+|\s+[|\-–—·•»/~]\s+|\s*[|·•»]\s*|:\s+"
_SEGMENT_SEPARATORS = SOFT404_SEPARATORS = re.compile(_SEPARATOR)
_SPLIT_KEEP = re.compile(f"({_SEPARATOR})")
# Word characters, with the combining marks of scripts that write vowels as marks (Arabic,
# Devanagari and its neighbours, Thai) and the zero-width joiners of Persian.
_WORD = re.compile(
    r"[\w\u0300-\u036f\u064b-\u065f\u0900-\u0dff\u0e00-\u0e7f\u200c\u200d]+(?:'\w+)?"
)
# Not part of a longer number (1404, 404.5, 4,404) nor a number sign's (#404, No. 404).
_STATUS_404 = re.compile(r"(?<![\d.,#№])404(?![\d,]|\.\d)")
# HTTP statuses a status table or list names beside 404, with their reason phrase.
_OTHER_STATUS = re.compile(
    r"\b(200 ok|301 moved|302 found|304 not modified|400 bad request|401 unauthorized|"
    r"403 forbidden|405 method not allowed|410 gone|429 too many|500 internal|502 bad gateway|"
    r"503 service unavailable|504 gateway)"
)
# A page listing this many posts (<article>, <time>) may be a tag page for the tag "404".
LISTING_ENTRIES = 3
# Where a text breaks into statements: its text nodes, sentences, separators.
_SENTENCES = re.compile(r"\n|[.!?。！？]+(?:\s|$)|" + _SEPARATOR)


def fold(text: str) -> str:
    """Lower case, compatibility forms (fullwidth digits) and straight apostrophes."""
    text = unicodedata.normalize("NFKC", text).lower()
    return text.replace("\u2019", "'").replace("\u02bc", "'")


def has_phrase(folded: str) -> bool:
    return any(p in folded for p in NOT_FOUND_PHRASES) or bool(_CJK_PHRASE.search(folded))


def mentions_not_found(folded: str) -> bool:
    """Any not-found phrase or a standalone 404 anywhere in the (folded) text."""
    return has_phrase(folded) or bool(_STATUS_404.search(folded))


def is_error_message(segment: str) -> bool:
    """True when the (folded) segment says "not found" and nothing else."""
    stripped = _CJK_PHRASE.sub(" ", segment)
    stripped = _STATUS_404.sub(" ", stripped)
    for phrase in NOT_FOUND_PHRASES:
        stripped = stripped.replace(phrase, " ")
    if stripped == segment:
        return False
    # "HTTP Error 404" is an error page's; "HTTP 404" alone is the name of an article's subject.
    words = _WORD.findall(stripped.replace("http error", "error"))
    # Digits too: Google's "Error 404 (Not Found)!!1".
    plain = [w for w in words if not (w in ERROR_FILLER or w.isdigit())]
    return not plain or not "".join(_CJK_FILLER.sub("", w) for w in plain)


def only_404(segment: str) -> bool:
    """An error message that holds no phrase: "404", "Error 404", "Erreur 404 !"."""
    return is_error_message(segment) and not has_phrase(segment)


@dataclass(frozen=True)
class Signal:
    """What a piece of the page says: strength "strong", "code" (an error message beside a long
    tagline, or early in a page a little over the short-body limit), "weak" (a mention inside
    something else),
    "label" (a 404 or a phrase that names something: "Tag: 404", "Not Found: A Novel") or ""
    (nothing)."""

    strength: str = ""
    # Only a 404 said it, no phrase ("404 | Example", an <h1> "404").
    lone: bool = False

    @property
    def says_it(self) -> bool:
        return self.strength in ("strong", "code")


NOTHING = Signal()


def _without_site_name(folded: str, site_names: tuple[str, ...]) -> str:
    """The title with the site's own name taken out ("404MySite" -> "404"), where it stands
    as a name (not inside a word: a site called "Home" leaves "Homebrew" alone)."""
    names = {fold(n).strip() for n in site_names}
    names |= {n.replace(" ", "") for n in names}
    for name in sorted(names, key=len, reverse=True):
        if len(name) < 3 or name == folded.strip():
            continue
        pattern = re.compile(rf"(?<![^\W\d_]){re.escape(name)}(?![^\W\d_])")
        if pattern.search(folded):
            return pattern.sub(" | ", folded)
    return folded


def heading_signal(text: str, site_names: tuple[str, ...] = ()) -> Signal:
    """How surely a title or heading says "not found" (see Signal)."""
    folded = fold(text)
    if not mentions_not_found(folded):
        return NOTHING
    folded = _without_site_name(folded, site_names)
    parts = _SPLIT_KEEP.split(folded)
    segments = [(parts[i].strip(), parts[i - 1] if i else "") for i in range(0, len(parts), 2)]
    segments = [(s, sep) for s, sep in segments if s]
    errors = [i for i, (s, _) in enumerate(segments) if is_error_message(s)]
    if not errors:
        return Signal("weak")
    first = errors[0]
    others = [s for i, (s, _) in enumerate(segments) if i not in errors]
    other_words = {w for s in others for w in _WORD.findall(s)}
    error_text = " ".join(segments[i][0] for i in errors)
    lone = not has_phrase(error_text)
    if lone and (other_words & LABEL_WORDS or _is_labelled(segments, first)):
        return Signal("label")  # "Tag: 404", "404 - Tags - Blog"
    if _is_subtitled(segments, errors):
        return Signal("label")  # "Not Found: A Novel"
    short_rest = all(len(_WORD.findall(s)) <= SITE_NAME_MAX_WORDS for s in others)
    if not short_rest and first != 0:
        return Signal("weak")
    if not short_rest:
        # A message followed by a long tagline may as well be a post's title ("Page not found -
        # what it means and how to fix it"): the heading, the text or the probe must confirm.
        return Signal("code", lone)
    return Signal("strong", lone)


def _is_labelled(segments: list[tuple[str, str]], index: int) -> bool:
    """A lone 404 after "Something:" is that label's value (an error filler label is not)."""
    if index == 0 or segments[index][1].strip() != ":":
        return False
    label = _WORD.findall(segments[index - 1][0])
    return bool(label) and not all(w in ERROR_FILLER for w in label)


def _is_subtitled(segments: list[tuple[str, str]], errors: list[int]) -> bool:
    """A phrase followed by a colon and words of another kind is a title with a subtitle."""
    after = errors[-1] + 1
    if after >= len(segments) or segments[after][1].strip() != ":":
        return False
    return not only_404(segments[errors[-1]][0]) and after not in errors


def body_signal(page: PageSummary, whole: bool) -> Signal:
    """What the page's own text (outside links, code, tables, navigation) says."""
    folded = fold(page.prose)
    if not mentions_not_found(folded):
        return NOTHING
    statements = [s.strip() for s in _SENTENCES.split(folded) if s.strip()]
    first_error = next((i for i, s in enumerate(statements) if is_error_message(s)), None)
    if not whole or page.text_length >= MEDIUM_BODY_CHARS:
        return Signal("weak")
    if _lists_statuses(folded):
        return Signal("weak")  # "200 OK, 301 Moved Permanently, 404 Not Found ..."
    if page.text_length < SHORT_BODY_CHARS:
        return Signal("strong" if first_error is not None else "weak")
    if first_error is not None and first_error < MEDIUM_BODY_LEAD:
        return Signal("code")
    return Signal("weak")


def _lists_statuses(folded: str) -> bool:
    """Text that names other HTTP statuses besides 404 is about statuses, not an error."""
    return len(set(_OTHER_STATUS.findall(folded))) >= 2


@dataclass(frozen=True)
class Judgement:
    """The rules' verdict on a page's words: `rule` names the soft-404 rule that fired ("" for
    none); `ambiguous` says the signals were weak or disagreed (see PageVerdict)."""

    rule: str = ""
    ambiguous: bool = False


def judge(page: PageSummary, whole: bool) -> Judgement:
    """Title, first heading and own text, weighed together. `whole`: the page was read to its
    end (the text before a page's first </h1> is always short)."""
    names = page.site_names
    title = heading_signal(page.title, names) if page.title else NOTHING
    h1 = heading_signal(page.h1, names) if page.h1 else NOTHING
    body = body_signal(page, whole)
    labelled = "label" in (title.strength, h1.strength)
    agreeing = sum(s.says_it for s in (title, h1, body))
    listing = page.entries >= LISTING_ENTRIES
    if title.strength == "strong":
        agreed = h1.says_it and not h1.lone
        unsure = _stray(page.h1, h1) or (listing and title.lone and not agreed)
        return Judgement("soft404-title", ambiguous=unsure)
    if not labelled:
        if h1.strength == "strong":
            unsure = _stray(page.title, title, names) or (listing and h1.lone)
            return Judgement("soft404-h1", ambiguous=unsure)
        if body.strength == "strong":
            return Judgement("soft404-short-body")
    if title.strength == "code":
        return Judgement("soft404-title", ambiguous=agreeing < 2)
    if not labelled:
        if h1.strength == "code":
            return Judgement("soft404-h1", ambiguous=agreeing < 2)
        if body.strength == "code":
            return Judgement("soft404-body", ambiguous=agreeing < 2)
    if any(s.strength for s in (title, h1, body)):
        return Judgement(ambiguous=True)
    return Judgement()


def _stray(text: str, signal: Signal, site_names: tuple[str, ...] = ()) -> bool:
    """A title or heading that names something else than an error or a site: "Page not found"
    beside it is then the weaker word."""
    if not text or signal.says_it:
        return False
    folded = _without_site_name(fold(text), site_names)
    first = next((s for s in _SEGMENT_SEPARATORS.split(folded) if s.strip()), "")
    return len(_WORD.findall(first)) > SITE_NAME_MAX_WORDS
