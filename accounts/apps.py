from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and API keys"

    def ready(self):
        from accounts.roles import sync_role_groups

        # After every migrate, when all permissions exist (dispatch_uid: once per run).
        post_migrate.connect(sync_role_groups, dispatch_uid="accounts.sync_role_groups")
