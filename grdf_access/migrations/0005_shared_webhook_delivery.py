"""Delivery rows under the hub's shared model (``hub.models.webhooks``); every row kept."""

from django.db import migrations

from hub.models.webhooks import adoption_operations


class Migration(migrations.Migration):
    dependencies = [("grdf_access", "0004_alert_webhooks"), ("hub", "0007_quantity_names")]
    operations = adoption_operations(
        app_label="grdf_access",
        model_name="alertdelivery",
        old_check="grdf_alert_delivery_status_valid",
    )
