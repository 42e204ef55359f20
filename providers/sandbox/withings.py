from fastapi import FastAPI


def build(state):
    return FastAPI()
