from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "haopin.search"
    label = "search"
    verbose_name = "搜索"

    def ready(self) -> None:
        from haopin.search import receivers

        receivers.connect()
