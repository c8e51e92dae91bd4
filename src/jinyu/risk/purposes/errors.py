"""Errors of the purpose matrix, named as facts."""

from __future__ import annotations

from jinyu.core.errors import Conflict, InvalidInput, NotFound


class MatrixVersionStale(Conflict):
    """The edit was based on a version that is no longer in force (someone stored another meanwhile)."""

    code = "purpose_matrix_version_stale"
    title = "矩阵已被他人修改 / The purpose matrix changed since the version you edited"


class MatrixVersionNotFound(NotFound):
    code = "purpose_matrix_version_not_found"
    title = "矩阵版本不存在 / No such purpose matrix version"


class MatrixInvalid(InvalidInput):
    code = "purpose_matrix_invalid"
    title = "用途矩阵无效 / Invalid purpose matrix"
