"""Webhook subscriptions of the office, their delivery log and replays."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from kb.services import webhooks
from service import config
from kb.models import Role
from service.api import kb
from service.api.common import api_blueprint, documented_errors, roles
from service.auth import current_actor
from service.schemas.common import page, page_of
from service.schemas.webhooks import (
    DeliveryDetailSchema, DeliveryQueryArgs, DeliverySchema, SubscriptionCreate, SubscriptionQueryArgs,
    SubscriptionSchema, SubscriptionUpdate, SubscriptionWithSecretSchema)

blp = api_blueprint("webhooks", __name__, "推送订阅：接收地址、事件、签名密钥；推送记录与重发（热线办）")
DeliveryPage = page_of(DeliverySchema)


def receiver_hosts() -> webhooks.ReceiverHosts:
    """Where this deployment lets webhooks go (KB_WEBHOOK_ALLOWED_HOSTS)."""
    return config.receiver_hosts(current_app.config.get("WEBHOOK_ALLOWED_HOSTS"))


def secret_box():
    """What seals the subscriptions' secrets in the database (KB_SECRETS_KEY)."""
    return current_app.extensions["kb.settings"].secret_box


@blp.route("")
class Subscriptions(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(SubscriptionQueryArgs, location="query")
    @blp.response(200, page_of(SubscriptionSchema))
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """List webhook subscriptions ({items, total}, limit/offset; office)"""
        return page(webhooks.list_subscriptions(kb().reader(), current_actor(), active=args.get("active")), args)

    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(SubscriptionCreate)
    @blp.response(201, SubscriptionWithSecretSchema)
    @documented_errors(blp, 401, 403, 422)
    def post(self, body):
        """Subscribe a receiver to events; the answer shows the signing secret, once (office)"""
        return webhooks.create_subscription(kb().uow(), current_actor(), now=kb().now(), secret_box=secret_box(),
                                            receiver_hosts=receiver_hosts(), **body)


@blp.route("/<int:subscription_id>")
class Subscription(MethodView):
    @blp.response(200, SubscriptionSchema)
    @documented_errors(blp, 401, 403, 404)
    def get(self, subscription_id):
        """Get a subscription, without its secret (office)"""
        return webhooks.get_subscription(kb().reader(), current_actor(), subscription_id)

    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(SubscriptionUpdate)
    @blp.response(200, SubscriptionWithSecretSchema)
    @documented_errors(blp, 401, 403, 404, 422)
    def patch(self, body, subscription_id):
        """Change URL, events, description or active; rotate_secret shows the new secret once (office)"""
        rotate = body.pop("rotate_secret", False)
        return webhooks.update_subscription(kb().uow(), current_actor(), subscription_id, now=kb().now(),
                                            fields=body, rotate_secret=rotate, secret_box=secret_box(),
                                            receiver_hosts=receiver_hosts())

    @blp.response(200, SubscriptionSchema)
    @documented_errors(blp, 401, 403, 404)
    def delete(self, subscription_id):
        """Deactivate a subscription and cancel its waiting deliveries; the log stays (office)"""
        return webhooks.delete_subscription(kb().uow(), current_actor(), subscription_id, now=kb().now())


@blp.route("/<int:subscription_id>/deliveries")
class SubscriptionDeliveries(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(DeliveryQueryArgs, location="query")
    @blp.response(200, DeliveryPage)
    @documented_errors(blp, 401, 403, 404, 422)
    def get(self, args, subscription_id):
        """The deliveries of one subscription, newest first (office)"""
        total, items = webhooks.list_deliveries(kb().reader(), current_actor(), subscription_id=subscription_id,
                                                **args)
        return {"total": total, "items": items}


@blp.route("/deliveries")
class Deliveries(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(DeliveryQueryArgs, location="query")
    @blp.response(200, DeliveryPage)
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """Every subscription's deliveries, newest first (office)"""
        total, items = webhooks.list_deliveries(kb().reader(), current_actor(), **args)
        return {"total": total, "items": items}


@blp.route("/deliveries/<int:delivery_id>")
class Delivery(MethodView):
    @blp.response(200, DeliveryDetailSchema)
    @documented_errors(blp, 401, 403, 404)
    def get(self, delivery_id):
        """A delivery with its body and every attempt (office)"""
        return webhooks.get_delivery(kb().reader(), current_actor(), delivery_id)


@blp.route("/deliveries/<int:delivery_id>/replay")
class Replay(MethodView):
    @blp.response(202, DeliveryDetailSchema)
    @documented_errors(blp, 401, 403, 404, 409)
    def post(self, delivery_id):
        """Send a delivery again at the next dispatch: same delivery id and body, logged as a replay (office)"""
        return webhooks.replay_delivery(kb().uow(), current_actor(), delivery_id, now=kb().now())
