"""Users, chats and topics Magpie has seen, kept current on every update."""

from __future__ import annotations

from dataclasses import dataclass

from cachetools import LRUCache
from sqlalchemy import func

from magpie.storage.database import Database
from magpie.storage.tables import ChatRow, TopicRow, UserRow


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class ChatInfo:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    is_forum: bool = False


class Directory:
    """Upserts users, chats and topics, skipping what it already wrote unchanged.

    Names change rarely, so the write is skipped when this process has written exactly the
    same values recently (a bounded memory of fingerprints).
    """

    def __init__(self, db: Database, *, remember_last: int = 10_000) -> None:
        self.db = db
        self._written: LRUCache[object, bool] = LRUCache(remember_last)

    async def remember(
        self,
        *,
        users: list[UserInfo],
        chat: ChatInfo | None,
        topic: tuple[int, str | None] | None = None,
    ) -> None:
        fingerprint = (tuple(users), chat, topic)
        if self._written.get(fingerprint):  # a read marks it recently used
            return
        async with self.db.write() as connection:
            for user in users:
                values = {
                    "first_name": user.first_name,
                    "last_name": user.last_name,
                    "username": user.username,
                    "language_code": user.language_code,
                    "is_bot": user.is_bot,
                }
                await connection.execute(
                    self.db.insert(UserRow)
                    .values(id=user.id, **values)
                    .on_conflict_do_update(
                        index_elements=["id"], set_={**values, "updated_at": func.now()}
                    )
                )
            if chat is not None:
                values = {
                    "type": chat.type,
                    "title": chat.title,
                    "username": chat.username,
                    "is_forum": chat.is_forum,
                }
                await connection.execute(
                    self.db.insert(ChatRow)
                    .values(id=chat.id, **values)
                    .on_conflict_do_update(
                        index_elements=["id"], set_={**values, "updated_at": func.now()}
                    )
                )
                if topic is not None:
                    thread_id, name = topic
                    statement = self.db.insert(TopicRow).values(
                        chat_id=chat.id, thread_id=thread_id, name=name
                    )
                    if name is not None:
                        statement = statement.on_conflict_do_update(
                            index_elements=["chat_id", "thread_id"], set_={"name": name}
                        )
                    else:
                        statement = statement.on_conflict_do_nothing(
                            index_elements=["chat_id", "thread_id"]
                        )
                    await connection.execute(statement)
        self._written[fingerprint] = True
