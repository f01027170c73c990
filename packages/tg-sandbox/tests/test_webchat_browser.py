"""The web chat page in headless Chromium, against a live sandbox and a small aiogram bot."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Command
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    MessageGenerationStopped,
    PreCheckoutQuery,
)
from aiogram.utils.formatting import Bold, Text
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.browser import CHROMIUM_ARGS, chromium_path
from tests.browser import snapshot as keep_screenshot
from tests.friends import Friends, friends
from tg_sandbox import FloodPolicy, Sandbox

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

USERNAME = "magpie_bot"
GROUPS = ("group", "supergroup")
MAX_DRAFTS = 150  # the endless stream gives up after ~30 s, so a broken Stop cannot hang


class TestBot:
    """Streams drafts in private, answers mentions, edits on a press, sells for Stars."""

    __test__ = False

    def __init__(self) -> None:
        self.release = asyncio.Event()  # the final private reply waits for the test's nod
        self.stopped = asyncio.Event()
        self.busy: set[asyncio.Task[object]] = set()
        self.router = Router(name="webchat-test-bot")
        on = self.router
        on.message(F.chat.type == "private", Command("buttons"))(self.buttons)
        on.message(F.chat.type == "private", Command("forever"))(self.forever)
        on.message(F.chat.type == "private", Command("buy"))(self.buy)
        on.message(F.successful_payment)(self.thanks)
        on.message(F.chat.type == "private", F.text)(self.echo)
        on.message(F.chat.type.in_(GROUPS), F.text.contains(f"@{USERNAME}"))(self.mentioned)
        on.callback_query()(self.picked)
        on.pre_checkout_query()(self.checkout)
        on.stopped_message_generation()(self.stop)

    def _hold(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.busy.add(task)
            task.add_done_callback(self.busy.discard)

    async def echo(self, message: Message, bot: Bot) -> None:
        self._hold()
        reply = f"You said: {message.text}"
        await bot.send_chat_action(message.chat.id, "typing")
        for part in ("You", "You said:", reply):
            await bot.send_message_draft(
                message.chat.id, draft_id=message.message_id, text=part, can_stop=True
            )
        await asyncio.wait_for(self.release.wait(), 10)
        await message.answer(**Text("You said: ", Bold(message.text or "")).as_kwargs())

    async def forever(self, message: Message, bot: Bot) -> None:
        self._hold()
        words = 0
        while not self.stopped.is_set() and words < MAX_DRAFTS:
            words += 1
            text = " ".join(f"word{n}" for n in range(1, words + 1))
            await bot.send_message_draft(message.chat.id, draft_id=1, text=text, can_stop=True)
            with contextlib.suppress(TimeoutError):  # the pace of a model writing
                await asyncio.wait_for(self.stopped.wait(), 0.2)
        await message.answer(f"Stopped after {words} words")

    async def stop(self, stopped: MessageGenerationStopped) -> None:
        self.stopped.set()

    async def mentioned(self, message: Message) -> None:
        first_name = message.from_user.first_name if message.from_user else "there"
        await message.reply(f"Hi {first_name}, I am here")

    async def buttons(self, message: Message) -> None:
        apples = InlineKeyboardButton(text="Apples", callback_data="apples")
        pears = InlineKeyboardButton(text="Pears", callback_data="pears")
        markup = InlineKeyboardMarkup(inline_keyboard=[[apples, pears]])
        await message.answer("Apples or pears?", reply_markup=markup)

    async def picked(self, query: CallbackQuery) -> None:
        if isinstance(query.message, Message):
            await query.message.edit_text(f"You picked {query.data}")
        await query.answer("Noted")

    async def buy(self, message: Message) -> None:
        price = [LabeledPrice(label="Tip", amount=5)]
        await message.answer_invoice(
            title="A tip", description="Five stars", payload="tip", currency="XTR", prices=price
        )

    async def checkout(self, query: PreCheckoutQuery) -> None:
        await query.answer(ok=True)

    async def thanks(self, message: Message) -> None:
        await message.answer("Thanks for the stars")


@dataclass
class Scene:
    """One test's world: the sandbox, its people and chats, the bot and the page showing it."""

    sandbox: Sandbox
    ids: Friends
    bot: TestBot
    client: Bot
    page: Page


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    """One Chromium for the module; each test gets its own page (launching costs ~2 s)."""
    executable = chromium_path()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@contextlib.asynccontextmanager
async def polling(sandbox: Sandbox, token: str) -> AsyncIterator[tuple[TestBot, Bot]]:
    """The test bot on aiogram's Dispatcher, long-polling the sandbox in this event loop."""
    bot = TestBot()
    dispatcher = Dispatcher()
    dispatcher.include_router(bot.router)
    client = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url)))
    task = asyncio.create_task(
        dispatcher.start_polling(client, handle_signals=False, polling_timeout=1)
    )
    try:
        yield bot, client
    finally:
        bot.release.set()
        bot.stopped.set()
        if bot.busy:
            await asyncio.wait(bot.busy, timeout=5)
        with contextlib.suppress(RuntimeError):  # polling may not have started yet
            await dispatcher.stop_polling()
        await task  # closes the client's session too


DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}  # an iPhone 12-15 in CSS pixels


@pytest_asyncio.fixture(loop_scope="module")
async def scene(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Scene]:
    """The friends open in a page (1280×800 unless a test asks for another size); the page is
    saved as a screenshot afterwards."""
    viewport = getattr(request, "param", DESKTOP)
    async with Sandbox(flood=FloodPolicy(enabled=False), anti_spin=False) as sandbox:
        account = sandbox.add_bot(username=USERNAME)
        ids = friends(sandbox, account)
        async with polling(sandbox, account.token) as (bot, client):
            page = await browser.new_page(viewport=viewport)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            try:
                await page.goto(f"{sandbox.url}/")
                await expect(page.get_by_test_id("chat-item")).to_have_count(3)
                yield Scene(sandbox, ids, bot, client, page)
            finally:
                await snapshot(page, request.node.name)
                await page.close()
        assert errors == [], errors


async def snapshot(page: Page, name: str) -> None:
    await keep_screenshot(page, "webchat", name)


async def say(page: Page, text: str) -> None:
    composer = page.get_by_test_id("composer")
    await composer.fill(text)
    await composer.press("Enter")
    await expect(composer).to_have_value("")


async def test_private_reply_streams_as_a_draft_then_lands_formatted(scene: Scene) -> None:
    page = scene.page
    await say(page, "hello sandbox")
    mine = page.get_by_test_id("message").filter(has_text="hello sandbox")
    await expect(mine).to_have_class(re.compile(r"\bown\b"))
    draft = page.get_by_test_id("draft")
    await expect(draft.get_by_test_id("draft-text")).to_have_text("You said: hello sandbox")
    await expect(draft.get_by_test_id("stop-button")).to_be_visible()
    await expect(page.get_by_test_id("typing")).to_have_text("Magpie is typing…")
    await snapshot(page, "test_private_reply_streams_as_a_draft_then_lands_formatted-draft")
    scene.bot.release.set()
    await expect(draft).to_have_count(0)
    await expect(page.get_by_test_id("typing")).to_be_hidden()
    reply = page.get_by_test_id("message").filter(has_text="You said:")
    await expect(reply.locator("strong")).to_have_text("hello sandbox")
    await expect(reply.get_by_test_id("message-sender")).to_have_text("Magpie")


async def test_a_mention_in_the_group_gets_a_reply_quoting_it(scene: Scene) -> None:
    page = scene.page
    await page.get_by_test_id("identity-select").select_option(label="Ann")
    await page.get_by_test_id("chat-item").filter(has_text="Weekend trip").click()
    await expect(page.get_by_test_id("chat-title")).to_have_text("Weekend trip")
    await say(page, f"@{USERNAME} hi")
    reply = page.get_by_test_id("message").filter(has_text="Hi Ann, I am here")
    quote = reply.get_by_test_id("reply-quote")
    await expect(quote).to_contain_text("Ann")
    await expect(quote).to_contain_text(f"@{USERNAME} hi")
    own = page.get_by_test_id("message").filter(has_text=f"@{USERNAME} hi").first
    await expect(own).to_have_class(re.compile(r"\bown\b"))
    await expect(page.get_by_test_id("service-message").first).to_have_text("You added Ann")


async def test_topic_messages_stay_in_their_topic(scene: Scene) -> None:
    page = scene.page
    await page.get_by_test_id("topic-item").filter(has_text="Fantasy").click()
    await expect(page.get_by_test_id("chat-title")).to_have_text("Book club › Fantasy")
    await say(page, f"@{USERNAME} any dragons?")
    reply = page.get_by_test_id("message").filter(has_text="Hi You, I am here")
    await expect(reply.get_by_test_id("reply-quote")).to_contain_text("any dragons?")
    club = scene.sandbox.world.groups[scene.ids.book_club]
    assert {m.thread_id for m in club.messages.values() if m.message_id > scene.ids.sci_fi} == {
        scene.ids.fantasy
    }
    await page.get_by_test_id("topic-item").filter(has_text="Sci-fi").click()
    await expect(page.get_by_test_id("service-message")).to_have_text(
        "Ann created the topic “Sci-fi”"
    )
    await expect(page.get_by_test_id("message")).to_have_count(0)
    await page.get_by_test_id("chat-item").filter(has_text="Book club").click()
    await expect(page.get_by_test_id("chat-title")).to_have_text("Book club")
    await expect(page.get_by_test_id("service-message")).to_have_count(4)  # Ann added ...
    await expect(page.get_by_test_id("message")).to_have_count(0)


async def test_pressing_an_inline_button_edits_the_message(scene: Scene) -> None:
    page = scene.page
    await say(page, "/buttons")
    await page.get_by_test_id("inline-button").filter(has_text="Pears").click()
    edited = page.get_by_test_id("message").filter(has_text="You picked pears")
    await expect(edited.get_by_test_id("edited")).to_have_text("edited")
    await expect(page.get_by_test_id("inline-button")).to_have_count(0)
    await expect(page.get_by_test_id("toast").filter(has_text="Noted")).to_be_visible()


async def test_stop_ends_an_endless_draft(scene: Scene) -> None:
    page = scene.page
    await say(page, "/forever")
    draft = page.get_by_test_id("draft")
    await expect(draft.get_by_test_id("draft-text")).to_contain_text("word3")
    await draft.get_by_test_id("stop-button").click()
    reaction = page.get_by_test_id("message").filter(has_text="Stopped after")
    await expect(reaction).to_have_count(1)
    await expect(draft).to_have_count(0)
    assert scene.bot.stopped.is_set()


async def test_an_invoice_is_paid_with_the_pay_button(scene: Scene) -> None:
    page = scene.page
    await say(page, "/buy")
    await expect(page.get_by_test_id("invoice")).to_contain_text("A tip")
    await page.get_by_test_id("pay-button").click()
    await expect(page.get_by_test_id("service-message")).to_have_text("You paid ⭐️5")
    await expect(
        page.get_by_test_id("message").filter(has_text="Thanks for the stars")
    ).to_be_visible()


async def test_entities_render_as_elements_and_text_never_as_html(scene: Scene) -> None:
    page = scene.page
    you = scene.sandbox.world.users[scene.ids.you]
    scene.sandbox.private_chat(scene.sandbox.bot(), you)
    html = (
        "🦜 <b>bold</b> <i>italic</i> <u>under</u> <s>struck</s> <code>x = 1</code> "
        '<a href="https://example.org/">link</a> <tg-spoiler>secret</tg-spoiler> '
        "&lt;img src=x onerror=alert(1)&gt;\n"
        '<pre><code class="language-python">print("hi")</code></pre>'
        "<blockquote>quoted</blockquote>"
    )
    await scene.client.send_message(you.id, html, parse_mode="HTML")
    text = page.get_by_test_id("message-text").filter(has_text="bold")
    await expect(text.locator("strong")).to_have_text("bold")
    await expect(text.locator("em")).to_have_text("italic")
    await expect(text.locator("u")).to_have_text("under")
    await expect(text.locator("s")).to_have_text("struck")
    await expect(text.locator("code.inline-code")).to_have_text("x = 1")
    await expect(text.locator("a")).to_have_attribute("href", "https://example.org/")
    await expect(text.get_by_test_id("spoiler")).to_have_text("secret")
    await expect(text.locator("pre")).to_have_attribute("data-language", "python")
    await expect(text.locator("pre code")).to_have_text('print("hi")')
    await expect(text.locator("blockquote")).to_have_text("quoted")
    await expect(text).to_contain_text("<img src=x onerror=alert(1)>")
    await expect(page.locator("#messages img")).to_have_count(0)


async def test_news_elsewhere_shows_as_unread_and_a_reply_quotes_its_message(
    scene: Scene,
) -> None:
    page, people, world = scene.page, scene.sandbox.people, scene.sandbox.world
    trip = world.groups[scene.ids.weekend_trip]
    people.send_text(world.users[scene.ids.ann], trip, "Who brings the tent?")
    people.send_text(world.users[scene.ids.bob], trip, "I can")
    item = page.get_by_test_id("chat-item").filter(has_text="Weekend trip")
    await expect(item.get_by_test_id("unread-badge")).to_have_text("2")
    await item.click()
    await expect(item.get_by_test_id("unread-badge")).to_be_hidden()
    bob = page.get_by_test_id("message").filter(has_text="I can")
    await bob.hover()
    await bob.get_by_test_id("reply-button").click()
    await expect(page.get_by_test_id("reply-bar")).to_contain_text("Reply to Bob")
    await say(page, "Great, thanks Bob!")
    await expect(page.get_by_test_id("reply-bar")).to_be_hidden()
    mine = page.get_by_test_id("message").filter(has_text="Great, thanks Bob!")
    await expect(mine.get_by_test_id("reply-quote")).to_contain_text("I can")
    assert trip.messages[max(trip.messages)].reply_to == max(trip.messages) - 1


async def width_of(page: Page, test_id: str) -> float:
    box = await page.get_by_test_id(test_id).bounding_box()
    assert box is not None, f"{test_id} is not on screen"
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5, box
    return float(box["width"])


@pytest.mark.parametrize("scene", [PHONE], indirect=True)
async def test_on_a_phone_the_chat_list_and_each_chat_are_screens_of_their_own(
    scene: Scene,
) -> None:
    """Regression: at 390 px the sidebar stayed and left the chat column ~70 px wide."""
    page, people, world = scene.page, scene.sandbox.people, scene.sandbox.world
    await expect(page.get_by_test_id("chat-list")).to_be_visible()
    assert await width_of(page, "chat-list") >= 370  # the list is the whole screen
    await snapshot(page, "test_on_a_phone-chat-list")

    await page.get_by_test_id("chat-item").filter(has_text="Weekend trip").click()
    await expect(page.get_by_test_id("chat-title")).to_have_text("Weekend trip")
    await expect(page.get_by_test_id("chat-list")).to_be_hidden()
    await expect(page.get_by_test_id("composer")).to_be_visible()
    assert await width_of(page, "message-list") >= 370
    assert await width_of(page, "composer") >= 300
    await say(page, f"@{USERNAME} hi from a phone")
    reply = page.get_by_test_id("message").filter(has_text="Hi You, I am here")
    await expect(reply).to_be_visible()
    people.send_text(world.users[scene.ids.ann], world.groups[scene.ids.book_club], "psst")
    await expect(page.get_by_test_id("back-badge")).to_have_text("1")  # news elsewhere
    await snapshot(page, "test_on_a_phone-group")

    await page.get_by_test_id("back-button").click()
    await expect(page.get_by_test_id("chat-list")).to_be_visible()
    await expect(page.get_by_test_id("composer")).to_be_hidden()
    club = page.get_by_test_id("chat-item").filter(has_text="Book club")
    await expect(club.get_by_test_id("unread-badge")).to_have_text("1")
    people.send_text(world.users[scene.ids.bob], world.groups[scene.ids.weekend_trip], "see you")
    trip = page.get_by_test_id("chat-item").filter(has_text="Weekend trip")
    await expect(trip.get_by_test_id("unread-badge")).to_have_text("1")  # no longer in sight
    private = page.get_by_test_id("chat-item-title").get_by_text("Magpie", exact=True)
    await page.get_by_test_id("chat-item").filter(has=private).click()
    await expect(page.get_by_test_id("chat-title")).to_have_text("Magpie")
    await say(page, "hello from a phone")
    draft = page.get_by_test_id("draft")
    await expect(draft.get_by_test_id("draft-text")).to_have_text("You said: hello from a phone")
    scene.bot.release.set()
    reply = page.get_by_test_id("message").filter(has_text="You said:")
    await expect(reply.locator("strong")).to_have_text("hello from a phone")
    assert await width_of(page, "message-list") >= 370
