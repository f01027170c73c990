"""The models a bot may use (LLM_MODEL, then LLM_FALLBACK_MODELS), built once, closed once."""

from __future__ import annotations

from collections.abc import Callable

from pydantic_ai.models import Model as VendorModel

from magpie.config import Settings
from magpie.llm.models import BuiltModel, build_model, parse_spec

Wrap = Callable[[str, str, VendorModel], VendorModel]  # (label, provider, model) -> model
Chain = Callable[[tuple[str, VendorModel], list[tuple[str, VendorModel]]], VendorModel]


def _as_is(label: str, provider: str, model: VendorModel) -> VendorModel:
    return model


def _first(primary: tuple[str, VendorModel], rest: list[tuple[str, VendorModel]]) -> VendorModel:
    return primary[1]


class ModelCatalog:
    """Label → model; `chain(choice)` puts the chosen model first and the others behind it."""

    def __init__(self, settings: Settings, *, wrap: Wrap = _as_is, chain: Chain = _first) -> None:
        labels: list[str] = []
        for text in [settings.llm_model, *settings.llm_fallback_models]:
            label = parse_spec(text).label
            if label not in labels:
                labels.append(label)
        self.labels = labels
        self.default = labels[0]
        self._built: dict[str, BuiltModel] = {}
        self._models: dict[str, VendorModel] = {}
        for label in labels:
            spec = parse_spec(label)
            built = build_model(spec, settings)
            self._built[label] = built
            self._models[label] = wrap(label, spec.provider, built.model)
        self._chain = chain

    @classmethod
    def of(cls, models: dict[str, VendorModel], *, chain: Chain = _first) -> ModelCatalog:
        """A catalog of ready models (benchmarks, tests); the first one is the default."""
        catalog = cls.__new__(cls)
        catalog.labels = list(models)
        catalog.default = catalog.labels[0]
        catalog._built = {}
        catalog._models = dict(models)
        catalog._chain = chain
        return catalog

    def chain(self, choice: str | None) -> tuple[str, VendorModel]:
        """The model to run (the chat's choice if it is still offered) with fallbacks after it."""
        first = choice if choice in self._models else self.default
        rest = [(label, self._models[label]) for label in self.labels if label != first]
        return first, self._chain((first, self._models[first]), rest)

    def knows(self, label: str) -> bool:
        return label in self._models

    async def close(self) -> None:
        for built in self._built.values():
            async with built.model:
                pass
            await built.close()
