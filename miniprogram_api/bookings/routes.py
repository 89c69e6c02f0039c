"""GET /services, GET /services/{id}/slots, POST/GET /bookings, POST /bookings/{id}/cancel, /reschedule."""

from flask_smorest import Blueprint

bp = Blueprint("bookings", __name__, description="服务预约")
