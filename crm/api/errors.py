"""Every API error leaves as {"error": {"code", "message", "details"}}."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from crm.errors import ApplicationError

_GENERIC_MESSAGES = {
    400: "La solicitud tiene datos inválidos.",
    401: "Debes iniciar sesión.",
    403: "No tienes permiso para esta acción.",
    404: "No encontrado.",
    405: "Método no permitido.",
    415: "Tipo de contenido no soportado.",
    429: "Demasiadas solicitudes; intenta más tarde.",
}


def error_body(code: str, message: str, details: dict | list | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=getattr(exc, "message_dict", None) or exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        code, message, details = "validation_error", _GENERIC_MESSAGES[400], response.data
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        code = getattr(detail, "code", None) or exc.default_code
        message = str(detail) or _GENERIC_MESSAGES.get(response.status_code, "Error.")
        details = {}
    response.data = error_body(str(code), message, details)
    return response


def bad_request(code: str, message: str, details: dict | None = None) -> Response:
    return Response(error_body(code, message, details), status=status.HTTP_400_BAD_REQUEST)
