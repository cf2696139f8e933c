"""`pybnn convert`: a larq (Keras) model, .h5 or .keras, to a .bnn file."""
import os


def cmd_convert(args):
    from ..convert import convert_keras
    from ..format import write
    from ..summary import summarize
    result = convert_keras(args.model, args.input_scale, args.input_offset)
    write(args.output, result.spec)
    print(f"{args.model} ({os.path.getsize(args.model)} bytes) -> {args.output}")
    for note in result.notes:
        print(f"note: {note}")
    print(summarize(result.spec, os.path.getsize(args.output)))
    return 0


def add_parser(sub):
    p = sub.add_parser("convert", help="convert a larq (Keras) model (.h5 or .keras) to .bnn")
    p.add_argument("model", help="a Keras model saved by model.save(): .h5 or .keras")
    p.add_argument("-o", "--output", required=True, help="the .bnn file to write")
    p.add_argument("--input-scale", type=float, default=None, metavar="S",
                   help="the model was trained on x_uint8 * S + O (not needed when the model "
                        "starts with a Rescaling layer)")
    p.add_argument("--input-offset", type=float, default=None, metavar="O",
                   help="see --input-scale (default 0)")
    p.set_defaults(func=cmd_convert)
