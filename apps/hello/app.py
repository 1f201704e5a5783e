import base64

from flask import Flask

app = Flask(__name__)


@app.route('/')
def hello():
    return base64.b64decode('SSBhbSB3YXRjaGluZyB5b3UsIE1hcml1cyBO').decode('utf-8')


if __name__ == '__main__':
    app.run(host='0.0.0.0', port=5000)
