"""Channel-layer group names. Every group is scoped to one brokerage."""


def broker_group(broker_id: int) -> str:
    return f"broker.{broker_id}"


def user_group(broker_id: int, user_id: int) -> str:
    return f"broker.{broker_id}.user.{user_id}"
