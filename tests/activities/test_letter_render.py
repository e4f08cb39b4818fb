# ruff: noqa: RUF001 -- Chinese text uses full-width punctuation on purpose.
"""A letter's PDF in both locales: laid out with Debian's Noto Sans CJK embedded, turned into
an image (PDFium) and its text extracted (pypdf), checked for every field CN credit-card
measures art. 69 ask for. The pages are kept in test-artifacts/letter-<locale>.png."""

from __future__ import annotations

import functools
import io
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image
from pypdf import PdfReader

from activities.letters.content import LetterContent, Rendered, format_date, money
from activities.letters.maker import fonts_from, letter_locale
from activities.letters.render import render
from overdue.settings_letters import LetterSettings
from workflows.letters import LenderContact, LetterItem, LetterPolicy, LetterSpec

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
FONTS = fonts_from(LetterSettings())

LENDERS = {
    "zh-CN": LenderContact(
        name="示例消费金融有限公司",
        address="上海市黄浦区中山东一路1号 200002",
        phone="400-800-0000",
        email="service@example.com",
        hours="工作日 09:00-18:00",
    ),
    "en": LenderContact(
        name="Example Consumer Finance Co., Ltd.",
        address="1 Zhongshan East 1st Road, Shanghai 200002",
        phone="+86 400 800 0000",
        email="service@example.com",
        hours="Mon-Fri 09:00-18:00",
    ),
}
OWN = {
    "zh-CN": "如您已还款，请忽略本函。如需分期或延期还款，欢迎与我们联系。",
    "en": "If you have paid already, please disregard this letter.\nWe can agree a plan.",
}
ITEMS = (
    LetterItem(kind="principal", amount_minor=100_000),
    LetterItem(kind="interest", amount_minor=20_000),
    LetterItem(kind="fees", amount_minor=3_456),
)


@functools.cache
def rendered(locale: str) -> Rendered:
    """Each locale's letter, rendered once for the tests that read it (a render takes seconds)."""
    return render(content(locale), FONTS)


def content(locale: str, **changes: object) -> LetterContent:
    values: dict[str, object] = {
        "locale": locale,
        "letter_ref": "L-0123456789",
        "account_id": "A-1001",
        "product": "credit_card",
        "due_date": date(2026, 11, 1),
        "days_past_due": 32,
        "letter_date": date(2026, 12, 3),
        "balance_minor": 123_456,
        "currency": "CNY",
        "itemization": ITEMS,
        "own_text": OWN[locale],
        "objection_days": 15,
        "lender": LENDERS[locale],
        "name": "张伟" if locale == "zh-CN" else "Alexandra Montgomery",
        "address": ("上海市浦东新区世纪大道100号", "200120")
        if locale == "zh-CN"
        else ("12 High Street", "London SW1A 1AA"),
    }
    values.update(changes)
    return LetterContent(**values)  # type: ignore[arg-type]


def text_of(pdf: bytes) -> str:
    """The PDF's text as pypdf extracts it, without white space (line breaks fall anywhere).
    pypdf reads each glyph of fpdf2's two-byte ToUnicode map with a NUL before it: dropped,
    and the result must equal what PDFium extracts, so neither reader's quirk hides a field."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    text = squeeze("".join(page.extract_text() for page in pages).replace("\x00", ""))
    document = pdfium.PdfDocument(pdf)
    assert text == squeeze("".join(page.get_textpage().get_text_range() for page in document))
    return text


def squeeze(text: str) -> str:
    return "".join(text.split())


def save_pages(pdf: bytes, path: Path) -> list[Image.Image]:
    """Every page as an image (150 dpi), stacked into one PNG at `path`."""
    document = pdfium.PdfDocument(pdf)
    images = [page.render(scale=150 / 72).to_pil().convert("RGB") for page in document]
    sheet = Image.new("RGB", (max(i.width for i in images), sum(i.height for i in images)), "white")
    top = 0
    for image in images:
        sheet.paste(image, (0, top))
        top += image.height
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return images


REQUIRED = {
    # field: what the page must say (art. 69: balance and itemization, reason and basis,
    # rights, objection with evidence, the lender's contact details; the policy's own text)
    "zh-CN": {
        "name": "尊敬的张伟",
        "address": "上海市浦东新区世纪大道100号",
        "balance": "应还余额1,234.56CNY",
        "principal": "本金1,000.00CNY",
        "interest": "利息200.00CNY",
        "fees": "费用34.56CNY",
        "reason": "您于2026年11月1日到期的款项尚未足额偿还",
        "days past due": "已逾期32天",
        "basis": "信用卡合同（账户A-1001）",
        "rights": "您的权利",
        "a right": "您有权对欠款金额或债务本身提出异议",
        "objection": "如何提出异议",
        "objection deadline": "请于2026年12月18日前",
        "evidence": "并附上相关证据",
        "lender": "示例消费金融有限公司",
        "lender phone": "电话：400-800-0000",
        "lender address": "地址：上海市黄浦区中山东一路1号200002",
        "lender email": "service@example.com",
        "own text": "如您已还款，请忽略本函。",
        "letter ref": "L-0123456789",
    },
    "en": {
        "name": "Dear Alexandra Montgomery",
        "address": "12 High Street",
        "balance": "Balance due1,234.56 CNY",
        "principal": "Principal1,000.00 CNY",
        "interest": "Interest200.00 CNY",
        "fees": "Fees34.56 CNY",
        "reason": "the payment due on 1 November 2026 has not been paid in full",
        "days past due": "it is 32 days past due",
        "basis": "Under your credit card agreement",
        "rights": "Your rights",
        "a right": "You may dispute the amount or the debt itself",
        "objection": "How to object",
        "objection deadline": "tell us by 18 December 2026",
        "evidence": "include your evidence",
        "lender": "Example Consumer Finance Co., Ltd.",
        "lender phone": "Phone: +86 400 800 0000",
        "lender address": "Address: 1 Zhongshan East 1st Road, Shanghai 200002",
        "lender email": "service@example.com",
        "own text": "If you have paid already, please disregard this letter.",
        "letter ref": "L-0123456789",
    },
}


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_a_letter_shows_every_required_field(locale: str) -> None:
    letter = rendered(locale)
    images = save_pages(letter.pdf, ARTIFACTS / f"letter-{locale}.png")
    text = text_of(letter.pdf)
    missing = {field: want for field, want in REQUIRED[locale].items() if squeeze(want) not in text}
    assert not missing, f"not on the {locale} letter: {missing}"
    assert letter.pages == len(images) >= 1
    # Text was drawn, in glyphs of the embedded font: a page with boxes or nothing would be
    # near-white; an A4 page of text at 150 dpi has tens of thousands of dark pixels.
    dark = sum(1 for pixel in images[0].convert("L").get_flattened_data() if pixel < 128)
    assert dark > 20_000


def test_the_font_is_embedded_as_a_subset() -> None:
    letter = rendered("zh-CN")
    fonts = [
        font
        for page in PdfReader(io.BytesIO(letter.pdf)).pages
        for font in page["/Resources"]["/Font"].values()
    ]
    names = {str(font.get_object()["/BaseFont"]) for font in fonts}
    assert names and all("+NotoSansCJKSC" in name for name in names), names
    assert len(letter.pdf) < 200_000  # a subset, not the 19 MB collection


def test_the_same_letter_renders_to_the_same_bytes() -> None:
    assert render(content("en"), FONTS).sha256 == rendered("en").sha256


def test_without_itemization_the_balance_and_currency_still_show() -> None:
    text = text_of(render(content("en", itemization=None), FONTS).pdf)
    assert squeeze("Balance due1,234.56 CNY") in text
    assert "Principal" not in text
    assert squeeze("This account has no itemization") in text


def test_money_keeps_the_currency_minor_unit() -> None:
    assert money(123_456, "CNY") == "1,234.56 CNY"
    assert money(5000, "JPY") == "5,000 JPY"
    assert money(7, "KWD") == "0.007 KWD"


def test_dates_read_as_each_language_writes_them() -> None:
    assert format_date(date(2026, 12, 3), "zh-CN") == "2026年12月3日"
    assert format_date(date(2026, 12, 3), "en") == "3 December 2026"


def test_a_letter_goes_in_the_customers_locale_else_its_language_else_the_default() -> None:
    spec = LetterSpec(
        letters=LetterPolicy(lender=LENDERS, texts=OWN),
        default_locale="zh-CN",
        product="credit_card",
        due_date=date(2026, 11, 1),
    )
    assert letter_locale("en", spec) == "en"
    assert letter_locale("en-GB", spec) == "en"
    assert letter_locale("zh-TW", spec) == "zh-CN"
    assert letter_locale("fr", spec) == "zh-CN"
    only_en = spec.model_copy(
        update={"letters": LetterPolicy(lender={"en": LENDERS["en"]}, texts={"en": "x"})}
    )
    assert letter_locale("fr", only_en) == "en"
