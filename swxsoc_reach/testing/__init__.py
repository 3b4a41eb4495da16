"""Local stand-ins for the outside services (UDL, AWS) that tests, benchmarks and the demo
run against: real servers on 127.0.0.1, never mocks."""
