from django.conf import settings
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework import pagination
from rest_framework.response import Response


class PageNumberPagination(pagination.PageNumberPagination):
    """{count, next, previous, results}; `?page_size=` up to 100."""

    page_size_query_param = "page_size"
    max_page_size = 100


class CappedPaginator(Paginator):
    """A paginator that counts at most `LIST_COUNT_CAP` rows: an exact count(*) of a list of 100,000
    reads every matching row on each request, while counting up to the cap stops there.

    Past the cap, `count` is the cap and `capped` is True; the pages reach the cap's last row
    (narrowing the filters is how a person gets further than that).
    """

    @cached_property
    def _counted(self) -> int:
        cap = settings.LIST_COUNT_CAP
        # Unordered: any index that finds cap + 1 rows will do, the order is the page query's business.
        return self.object_list.order_by()[:cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._counted, settings.LIST_COUNT_CAP)

    @property
    def capped(self) -> bool:
        return self._counted > settings.LIST_COUNT_CAP


class CappedPageNumberPagination(PageNumberPagination):
    """As PageNumberPagination, with a `count` of at most `LIST_COUNT_CAP` and `count_capped` telling
    whether more rows match."""

    django_paginator_class = CappedPaginator

    def get_paginated_response(self, data):
        return Response({"count": self.page.paginator.count, "count_capped": self.page.paginator.capped,
                         "next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["count", "count_capped", "results"]
        response["properties"] = {"count": response["properties"]["count"], "count_capped": {
            "type": "boolean", "description": "True when more rows match than `count` says (the count stops at "
                                              f"{settings.LIST_COUNT_CAP:,}); narrow the filters to see them."},
            **{key: value for key, value in response["properties"].items() if key != "count"}}
        return response
