"""/staff/webhooks: admins see endpoints and recent deliveries and can redeliver by hand."""

from __future__ import annotations

from collections.abc import Callable

from dpa_service.webhooks import events as webhook_events
from tests.conftest import Api
from tests.staff import make_user, post_form, staff_client
from tests.webhooks.conftest import Endpoint, deliveries, wait_settled
from tests.webhooks.receiver import Receiver, wait_for


def test_an_admin_sees_the_delivery_log_and_redelivers_from_the_page(
    api: Api, receiver: Receiver, endpoint: Callable[..., Endpoint]
) -> None:
    ep = endpoint(receiver.url, events=["subprocessors.changed"], description="Klusaro app")
    with api.session() as s:
        event_id = webhook_events.emit(session=s, event="subprocessors.changed", data={"v": 2}).id
        s.commit()
    (delivery,) = wait_settled(api, ep.id, 1)

    admin = staff_client(api, *make_user(api, "admin"))
    page = admin.get("/staff/webhooks")
    assert page.status_code == 200
    assert receiver.url in page.text and "Klusaro app" in page.text
    assert f'id="delivery-{delivery.id}"' in page.text and event_id in page.text
    assert ep.secret not in page.text

    r = post_form(
        admin, "/staff/webhooks", f"/staff/webhooks/deliveries/{delivery.id}/redeliver", {}
    )
    assert r.status_code == 303 and "will+be+sent+again" in r.headers["location"].replace(
        "%20", "+"
    )
    wait_for(lambda: len(receiver.requests(lambda q: q.json["id"] == event_id)) == 2)
    wait_for(
        lambda: [d for d in deliveries(api, ep.id) if d.attempts == 2 and d.state == "delivered"]
    )

    # without the form's CSRF token nothing happens
    forged = admin.post(
        f"/staff/webhooks/deliveries/{delivery.id}/redeliver", data={}, follow_redirects=False
    )
    assert forged.status_code == 403
    assert [d.attempts for d in deliveries(api, ep.id)] == [2]


def test_other_staff_roles_may_not_open_the_webhook_page(api: Api) -> None:
    for role in ("legal", "sales"):
        client = staff_client(api, *make_user(api, role))
        assert client.get("/staff/webhooks").status_code == 403
    anonymous = api.client.get("/staff/webhooks", follow_redirects=False)
    assert anonymous.status_code == 303 and "/staff/login" in anonymous.headers["location"]
