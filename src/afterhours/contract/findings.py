"""openapi-core's exceptions, flattened into findings: which side, where, and what is wrong."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from jsonschema.exceptions import ValidationError as SchemaError
from jsonschema.exceptions import best_match
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.request.exceptions import (
    MissingRequiredParameter,
    ParameterValidationError,
    RequestBodyValidationError,
    SecurityValidationError,
)
from openapi_core.validation.response.exceptions import (
    DataValidationError,
    HeaderValidationError,
)
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

Side = Literal["request", "response"]
MAX_MESSAGE = 300


@dataclass(frozen=True)
class Finding:
    """One thing the spec rejects, e.g. response `body.ticket.via.source.rel`: None is not..."""

    side: Side
    where: str  # "path", "security", "status", "query.include", "body", "body.ticket.priority"
    message: str

    def __str__(self) -> str:
        return f"{self.side} {self.where}: {self.message}"


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def _schema_findings(side: Side, prefix: str, errors: Iterable[Exception]) -> Iterator[Finding]:
    for error in errors:
        if isinstance(error, SchemaError):
            validator, closest = str(error.validator), error
            if error.context:
                # anyOf/oneOf: name the branch that came closest, not the whole instance.
                closest = best_match(error.context)
                validator = f"{validator}/{closest.validator}"
            where = ".".join([prefix, *(str(part) for part in closest.absolute_path)])
            yield Finding(side, where, _short(f"{validator}: {closest.message}"))
        else:
            yield Finding(side, prefix, _short(str(error)))


def _cause_findings(side: Side, prefix: str, error: Exception) -> Iterator[Finding]:
    cause = error.__cause__
    if isinstance(cause, InvalidSchemaValue):
        yield from _schema_findings(side, prefix, cause.schema_errors)
    else:
        yield Finding(side, prefix, _short(str(cause or error)))


def request_findings(errors: Iterable[Exception]) -> Iterator[Finding]:
    """Findings for what `openapi.iter_request_errors` yielded."""
    for error in errors:
        if isinstance(error, PathError):
            yield Finding("request", "path", _short(str(error)))
        elif isinstance(error, SecurityValidationError):
            yield Finding("request", "security", _short(str(error.__cause__ or error)))
        elif isinstance(error, MissingRequiredParameter):
            yield Finding("request", f"{error.location}.{error.name}", "required but not sent")
        elif isinstance(error, ParameterValidationError):
            yield from _cause_findings("request", f"{error.location}.{error.name}", error)
        elif isinstance(error, RequestBodyValidationError):
            yield from _cause_findings("request", "body", error)
        else:
            yield Finding("request", "?", _short(f"{type(error).__name__}: {error}"))


def response_findings(errors: Iterable[Exception]) -> Iterator[Finding]:
    """Findings for what `openapi.iter_response_errors` yielded."""
    for error in errors:
        if isinstance(error, PathError):
            yield Finding("response", "path", _short(str(error)))
        elif isinstance(error, ResponseNotFound):
            yield Finding("response", "status", f"status {error.http_status} is not declared")
        elif isinstance(error, DataValidationError):
            yield from _cause_findings("response", "body", error)
        elif isinstance(error, HeaderValidationError):
            yield Finding("response", "header", _short(str(error.__cause__ or error)))
        else:
            yield Finding("response", "?", _short(f"{type(error).__name__}: {error}"))
