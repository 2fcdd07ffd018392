"""An upstream for the gateway's tests, run as a real process: it answers with what it
received, and has a Server-Sent Events stream, a large body, a slow route and a
WebSocket. `python echo_upstream.py NAME PORT`."""

import asyncio
import base64
import sys

import uvicorn
from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, StreamingResponse

NAME = sys.argv[1] if len(sys.argv) > 1 else "echo"
app = FastAPI(title=f"echo {NAME}")


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}


@app.get("/api/v1/notifications/stream")
async def stream(request: Request):
    async def events():
        for n in range(3):
            yield f"id: {n}\ndata: event {n}\n\n".encode()
            await asyncio.sleep(1.0)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"X-Authorization-Seen": request.headers.get("authorization", "")},
    )


@app.get("/api/v1/flights/big")
async def big():
    async def chunks():
        for n in range(64):
            yield bytes([65 + n % 26]) * 16384

    return StreamingResponse(chunks(), media_type="application/octet-stream")


@app.get("/api/v1/flights/slow")
async def slow(seconds: float = 5.0):
    await asyncio.sleep(seconds)
    return {"slept": seconds}


@app.websocket("/api/v1/notifications/ws")
async def websocket(ws: WebSocket):
    await ws.accept()
    await ws.send_text(f"hello {ws.headers.get('authorization', '')}")
    async for text in ws.iter_text():
        await ws.send_text(f"echo {text}")


@app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def echo(path: str, request: Request):
    body = await request.body()
    return JSONResponse(
        {
            "upstream": NAME,
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "headers": {k: v for k, v in request.headers.items()},
            "body": base64.b64encode(body).decode(),
            "length": len(body),
        }
    )


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
