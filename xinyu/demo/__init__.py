"""The demo hub: `manage.py demo` builds the demo district from the builders every app
registers (`xinyu.kernel.registry.demo_builders`); it imports no app."""
