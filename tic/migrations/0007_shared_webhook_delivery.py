"""Delivery rows under the hub's shared model (``hub.models.webhooks``); every row kept."""

from django.db import migrations

from hub.models.webhooks import adoption_operations


class Migration(migrations.Migration):
    dependencies = [("tic", "0006_port_lease"), ("hub", "0007_quantity_names")]
    operations = adoption_operations(
        app_label="tic", model_name="ticwebhookdelivery", old_check="tic_delivery_status_valid"
    )
