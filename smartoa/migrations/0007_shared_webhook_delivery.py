"""Delivery rows under the hub's shared model (``hub.models.webhooks``); every row kept."""

from django.db import migrations

from hub.models.webhooks import adoption_operations


class Migration(migrations.Migration):
    dependencies = [("smartoa", "0006_contract_claimed_at"), ("hub", "0007_quantity_names")]
    operations = adoption_operations(
        app_label="smartoa", model_name="webhookdelivery", old_check="smartoa_delivery_status_valid"
    )
