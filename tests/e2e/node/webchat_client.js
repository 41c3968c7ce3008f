// Talks to the api exactly like rasa-webchat 1.0.1 does (socket.io-client 3.x):
// session_request -> session_confirm, user_uttered -> bot_uttered.
// Usage: node webchat_client.js <api-url> <message> [proposed-session-id]
const io = require("socket.io-client");
const [url, message, proposed] = process.argv.slice(2);
const socket = io(url, { path: "/socket.io", transports: ["websocket"], reconnection: false });
const result = { confirmed: null, bot: [] };
let quiet;
const finish = () => { socket.close(); console.log(JSON.stringify(result)); process.exit(0); };
socket.on("connect", () => socket.emit("session_request", { session_id: proposed || "chosen-by-the-client" }));
socket.on("session_confirm", (sessionId) => {
  result.confirmed = sessionId;
  socket.emit("user_uttered", { message, customData: { language: "ko" }, session_id: sessionId });
});
socket.on("bot_uttered", (msg) => {
  result.bot.push(msg);
  clearTimeout(quiet);
  quiet = setTimeout(finish, 1500);  // replies arrive as a burst
});
socket.on("connect_error", (err) => { console.error("connect_error", err.message); process.exit(2); });
setTimeout(() => { console.error("timeout"); process.exit(3); }, 30000);
