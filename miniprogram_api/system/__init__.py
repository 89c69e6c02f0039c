"""Service health for load balancers and the phone's connectivity check."""
