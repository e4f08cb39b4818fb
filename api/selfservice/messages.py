"""The borrower's pages' messages, by key (English msgids, translated where shown)."""

from __future__ import annotations

from api.console.i18n import N_

MESSAGES: dict[str, str] = {
    "link.unknown": N_("This link is not valid. Please use the link in our latest message."),
    "link.expired": N_("This link has expired. Please use the link in our latest message."),
    "link.revoked": N_("This link is no longer valid. Please use the link in our latest message."),
    "link.rate_limited": N_("Too many requests on this link. Please try again in an hour."),
    "link.locked": N_(
        "Too many wrong answers: this link is locked. Please call us, or use the link in our "
        "next message."
    ),
    "session.missing": N_("Please confirm who you are first."),
    "form.csrf": N_("This form has expired. Please open the page again and resend it."),
    "check.wrong": N_("That does not match our records. Attempts left: %(left)s."),
    "process.ended": N_("There is nothing to arrange for this account online any more."),
    "form.promise_invalid": N_("Please enter a positive amount and a date (YYYY-MM-DD)."),
    "form.plan_count": N_("Please choose one of the offered numbers of instalments."),
    "form.category": N_("Please choose a reason from the list."),
    "form.text_too_long": N_("The explanation is too long (at most 2000 characters)."),
    "form.text_invalid": N_("The explanation contains characters we cannot take."),
    "form.forbearance_kind": N_("Please choose what you would like to ask for."),
    "form.times": N_("Please choose days and a time range (from, to)."),
    "form.too_many_files": N_("Too many files: at most %(max)s."),
    "file.too_large": N_("A file is too large: at most %(max)s MB each."),
    "file.empty": N_("A file is empty."),
    "file.type": N_("Only PDF, JPEG and PNG files are taken."),
    "file.mislabelled": N_("A file's name or type does not match its content."),
    "form.rejected": N_("Not accepted: %(reason)s"),
    "done.promise": N_("Thank you: your promise to pay is recorded."),
    "done.plan": N_("Thank you: your request for a repayment plan was sent for review."),
    "done.hardship": N_("Thank you: your report was received; a specialist will review it."),
    "done.dispute": N_("Thank you: your dispute was received; collection waits while we check it."),
    "done.forbearance": N_(
        "Thank you: your request was sent to a specialist, who will contact you about it."
    ),
    "done.contact": N_("Thank you: your contact preferences are recorded."),
    "done.again": N_("This form was already sent; nothing more was done."),
}
